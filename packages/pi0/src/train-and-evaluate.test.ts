// The whole recipe on the smoke config (real pi0 at toy widths, wasm): data, norm stats, a fresh run, the verified
// adapter and the held-out comparison; then the lines vla-train prints for it.
import { join } from 'node:path';
import { createLogger } from '@vla-lora/trainer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradientsTempDir, type TempDir } from '../test-support/index.js';
import { applyOverrides, getTrainConfig } from './config/index.js';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await gradientsTempDir('pi0-train-eval-');
});
afterAll(async () => {
  await tmp?.remove();
});

describe('trainAndEvaluatePi0', () => {
  it('trains the smoke config from scratch, verifies the adapter, scores base vs fine-tuned and describes it', async () => {
    const { describeTrainAndEvaluate, describeTrainRun, trainAndEvaluatePi0 } = await import('./index.js');
    const config = applyOverrides(getTrainConfig('pi0_libero_lora_smoke'), [
      'backend=wasm',
      'trainer.numTrainSteps=2',
      'eval.maxChunks=4',
    ]);
    const runDir = join(tmp.path, 'runs', 'smoke');
    const dataRoot = join(tmp.path, 'data');
    const logger = createLogger({ mode: 'silent' });
    const r = await trainAndEvaluatePi0({ config, runDir, dataRoot, logger, handleSignals: false });
    expect(r.dataset).toMatchObject({ generated: true, trainEpisodes: 6, heldOutEpisodes: 2 });
    expect(r.normStats.path).toBe(join(r.dataset.root, 'norm_stats.json'));
    expect(r.train.loop).toMatchObject({ stoppedBy: 'completed', step: 2 });
    expect(r.train.adapterReport?.loraTensors).toBeGreaterThan(0);
    expect(r.eval?.chunks).toBe(4);
    expect(r.eval?.base.mse).toBeGreaterThan(0);
    expect(r.seconds).toBeGreaterThan(0);

    const lines = describeTrainAndEvaluate(r);
    expect(lines[0]).toBe('');
    expect(lines).toContain(`norm stats:         ${r.normStats.path}`);
    expect(lines).toContain(`  base (untrained): ${r.eval?.base.mse.toFixed(5)}`);
    expect(lines.join('\n')).toMatch(/trained: {12}2 steps, final loss \d+\.\d{4}, \d+ s in total/);
    expect(lines.at(-1)).toBe(`eval:               ${join(r.train.runDir, 'eval.json')}`);
    expect(describeTrainRun(r.train)).toEqual([
      `run: ${r.train.runDir}`,
      `adapter (PEFT): ${r.train.adapterDir} — verified: ${r.train.adapterReport?.loraTensors} LoRA tensors, ${r.train.adapterReport?.loraValues.toLocaleString('en-US')} values`,
      `last checkpoint: ${r.train.loop.lastCheckpoint}`,
      `metrics: ${r.train.loop.metricsPath}`,
      `report: ${r.train.loop.reportPath}`,
    ]);
  }, 120_000);
});
