// pi0 against an independent torch implementation of openpi's math (scripts/torch_pi0.py, run by
// Debian's torch): same weights file (our saver), same inputs, noise and times.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, writeSafetensors } from '@vla-lora/checkpoint-io';
import { getPi0Config } from '@vla-lora/gemma-config';
import { torchPi0Config, torchPi0Inputs } from '../../test-support/index.js';
import { SeededRandom } from '../rng/random-source.js';
import { hasTorch, maxAbsDiff, setupBackend } from '../test-support.js';
import { sampleFlowTime } from './flow-matching.js';
import { savePi0Weights } from './load.js';
import { Pi0Policy } from './policy.js';
import { tinyBatch } from '../../test-support/test-batch.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/torch_pi0.py', import.meta.url));

describe.skipIf(!hasTorch())('Pi0Policy vs openpi math in torch (Debian python3-torch oracle)', () => {
  let tmp: string;
  beforeAll(async () => {
    await setupBackend();
    tmp = await mkdtemp(join(tmpdir(), 'pi0-oracle-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('per-element flow-matching loss and 10-step sampled actions agree (padding, missing camera)', async () => {
    const cfg = getPi0Config('pi0_tiny');
    const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(31) });
    const B = 3;
    const batch = tinyBatch(cfg, B, 5);
    const rng = new SeededRandom(8);
    const noise = tf.randomNormal([B, cfg.actionHorizon, cfg.actionDim], 0, 1, 'float32', 9);
    const times = sampleFlowTime(rng, B);
    const loss = policy.computeLoss(batch, rng, { noise, times });
    const sampled = policy.sampleActions(batch, rng, { noise, numSteps: 10 });

    await savePi0Weights(policy, join(tmp, 'w.safetensors'));
    await writeSafetensors(join(tmp, 'in.safetensors'), await torchPi0Inputs(cfg, batch, noise, times));
    await writeFile(join(tmp, 'cfg.json'), JSON.stringify(torchPi0Config(cfg)));
    execFileSync(
      '/usr/bin/python3',
      [
        SCRIPT,
        join(tmp, 'w.safetensors'),
        join(tmp, 'in.safetensors'),
        join(tmp, 'cfg.json'),
        join(tmp, 'out.safetensors'),
      ],
      { timeout: 120_000 },
    );
    const out = await openSafetensors(join(tmp, 'out.safetensors'));
    try {
      const dLoss = maxAbsDiff(await loss.data(), await out.readFloat32('loss'));
      const dActions = maxAbsDiff(await sampled.data(), await out.readFloat32('sampled'));
      console.log('pi0 vs torch: max abs diff loss', dLoss, 'sampled actions', dActions);
      expect(dLoss).toBeLessThan(1e-4);
      expect(dActions).toBeLessThan(1e-4);
    } finally {
      await out.close();
    }
  });
});
