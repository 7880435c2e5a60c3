// The real pi0 (tiny config, wasm: the default backend): 4 straight steps == 2 steps + resume (a fresh model instance),
// bit for bit — weights in the exported PEFT adapter and heads, and every logged loss.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gradientsTempDir, type TempDir } from '../test-support/index.js';
import { applyOverrides, getTrainConfig } from './config/index.js';
import { createLogger } from '@vla-lora/trainer';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await gradientsTempDir('pi0-resume-');
});
afterAll(async () => {
  await tmp?.remove();
});

describe('trainPi0 resume (real pi0, tiny)', () => {
  it('N straight steps and k steps + resume give identical weights and losses', async () => {
    const { trainPi0, ensureDataset, computeNormStatsForConfig } = await import('./index.js');
    const logger = createLogger({ mode: 'silent' });
    const base = applyOverrides(getTrainConfig('pi0_libero_lora_smoke'), [
      'backend=wasm',
      'trainer.saveInterval=2',
      'data.batchSize=2',
    ]);
    const dataRoot = join(tmp.path, 'data');
    await ensureDataset(base, dataRoot, logger);
    await computeNormStatsForConfig(base, dataRoot, logger);
    const cfg4 = applyOverrides(base, ['trainer.numTrainSteps=4']);
    const straight = await trainPi0({
      config: cfg4,
      runDir: join(tmp.path, 'straight'),
      dataRoot,
      resume: false,
      overwrite: false,
      logger,
      handleSignals: false,
    });
    expect(straight.loop.step).toBe(4);

    // k = 2: a run that is stopped after its step-2 checkpoint (same config: the step count is part of it)
    const split = join(tmp.path, 'split');
    const first = await trainPi0({
      config: applyOverrides(cfg4, []),
      runDir: split,
      dataRoot,
      resume: false,
      overwrite: false,
      logger,
      handleSignals: false,
      hooks: stopAfter(2),
    }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(StopHere);
    const resumed = await trainPi0({
      config: cfg4,
      runDir: split,
      dataRoot,
      resume: true,
      overwrite: false,
      logger,
      handleSignals: false,
    });
    expect(resumed.loop.stepsRun).toBe(2);

    expect(resumed.loop.history.map((h) => h.loss)).toEqual(straight.loop.history.map((h) => h.loss));
    for (const f of ['adapter/adapter_model.safetensors', 'trainable.safetensors']) {
      const a = await readFile(join(tmp.path, 'straight', f));
      const b = await readFile(join(split, f));
      expect(Buffer.compare(a, b), f).toBe(0);
    }
    // The run carries the norm stats it was trained with (vla-serve reads them beside the adapter).
    const { normStatsPath } = await import('./index.js');
    const dataStats = await readFile(normStatsPath(base, dataRoot), 'utf8');
    expect(JSON.parse(await readFile(join(tmp.path, 'straight', 'norm_stats.json'), 'utf8'))).toEqual(
      JSON.parse(dataStats),
    );
  }, 180_000);
});

class StopHere extends Error {}
/** Simulates a process that dies right after the step-k checkpoint became `latest`. */
function stopAfter(k: number): { beforeCheckpointCommit: (tmp: string) => Promise<void> } {
  let armed = false;
  return {
    beforeCheckpointCommit: async (tmp: string) => {
      if (armed) throw new StopHere('stopped after the checkpoint');
      if (tmp.includes(`step-${String(k).padStart(6, '0')}`)) armed = true;
    },
  };
}
