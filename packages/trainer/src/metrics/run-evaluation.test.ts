import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricRecord } from '@vla-lora/checkpoint-io';
import { describe, expect, it } from 'vitest';
import { haveTensorBoardReader, readEventFile } from '../../test-support/tensorboard-reader.js';
import { MetricsError } from '../errors.js';
import { renderReport } from './report.js';
import { writeRunEvaluation } from './run-evaluation.js';
import { TensorBoardWriter } from './tensorboard.js';

describe('writeRunEvaluation', () => {
  it('adds eval/* scalars at the last step and the evaluation section, leaving the rest of the report', async () => {
    const run = await mkdtemp(join(tmpdir(), 'run-eval-'));
    const history: MetricRecord[] = [1, 2, 3].map((step) => ({ step, loss: 1 / step, lr: 1e-4, samples_per_s: 10 }));
    await writeFile(join(run, 'metrics.jsonl'), history.map((h) => `${JSON.stringify(h)}\n`).join(''));
    const before = renderReport(history, { title: 'run', facts: [['config', 'tiny']] });
    await writeFile(join(run, 'report.html'), before);
    await new TensorBoardWriter(join(run, 'tensorboard')).reset(history);
    const e = {
      description: '8 held-out chunks',
      metrics: [{ name: 'action MSE', base: 0.5, fineTuned: 0.25 }],
      scalars: { mse_base: 0.5, mse_fine_tuned: 0.25 },
    };
    await writeRunEvaluation(run, e);
    await writeRunEvaluation(run, e); // again: the section is replaced, not duplicated
    const after = await readFile(join(run, 'report.html'), 'utf8');
    expect(after.match(/Held-out evaluation/g)).toHaveLength(1);
    expect(after).toMatch(/action MSE<\/th><td>0\.5[\s\S]*0\.25[\s\S]*-50\.0 %/);
    const strip = (h: string) => h.replace(/<!--evaluation-->[\s\S]*<!--\/evaluation-->/, '');
    expect(strip(after)).toBe(strip(before));
    const [events] = await readdir(join(run, 'tensorboard'));
    if (!haveTensorBoardReader) {
      console.warn('SKIPPED reading the eval scalars back: needs protobuf-compiler + python3-protobuf');
      return;
    }
    const back = await readEventFile(join(run, 'tensorboard', events!));
    const evals = back.events.filter((x) => x.values?.some((v) => v[0].startsWith('eval/')));
    expect(evals.map((x) => [x.step, x.values!.map((v) => [v[0], v[1]])])).toEqual([
      [
        3,
        [
          ['eval/mse_base', 0.5],
          ['eval/mse_fine_tuned', 0.25],
        ],
      ],
      [
        3,
        [
          ['eval/mse_base', 0.5],
          ['eval/mse_fine_tuned', 0.25],
        ],
      ],
    ]);
  });

  it('a run that never trained is a typed error', async () => {
    const run = await mkdtemp(join(tmpdir(), 'run-eval-'));
    await writeFile(join(run, 'metrics.jsonl'), '');
    await expect(writeRunEvaluation(run, { description: 'x', metrics: [], scalars: {} })).rejects.toBeInstanceOf(
      MetricsError,
    );
  });
});
