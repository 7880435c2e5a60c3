// Adding a held-out evaluation to a finished run: eval/* scalars in its TensorBoard event file and the
// base-vs-fine-tuned section of its report.html (the rest of the report left as it was).
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '@vla-lora/checkpoint-io';
import { MetricsError } from '../errors.js';
import { withEvaluation, type EvaluationSummary } from './report.js';
import { TensorBoardWriter } from './tensorboard.js';
import { runPath } from '../run/layout.js';

export interface RunEvaluation extends EvaluationSummary {
  /** TensorBoard scalars (tagged eval/<name>), e.g. { mse_base: 0.08, mse_fine_tuned: 0.02 }. */
  scalars: Record<string, number>;
}

/** The step of the last line of `<run>/metrics.jsonl`. */
async function lastStep(runDir: string): Promise<number> {
  const last = (await readFile(runPath(runDir, 'metrics'), 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .at(-1);
  let step: unknown;
  try {
    step = last === undefined ? undefined : (JSON.parse(last) as { step?: unknown }).step;
  } catch (err) {
    throw new MetricsError(`${runDir}/metrics.jsonl ends with a line that is not JSON; the file is damaged`, {
      cause: err,
    });
  }
  if (typeof step !== 'number')
    throw new MetricsError(`${runDir}/metrics.jsonl has no step; evaluate a run that has trained at least one step`);
  return step;
}

/** Writes `e` into `<run>/tensorboard/` (at the run's last step) and `<run>/report.html`. */
export async function writeRunEvaluation(runDir: string, e: RunEvaluation): Promise<void> {
  const step = await lastStep(runDir);
  const tb = await TensorBoardWriter.existing(runPath(runDir, 'tensorboard'));
  await tb.appendEval(step, e.scalars);
  const reportPath = runPath(runDir, 'report');
  const html = await readFile(reportPath, 'utf8');
  await writeFileAtomic(reportPath, withEvaluation(html, { description: e.description, metrics: e.metrics }));
}
