// pi0 against an independent torch implementation of openpi's math (scripts/torch_pi0.py, run by
// Debian's torch): same weights file (our saver), same inputs, noise and times.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, writeSafetensors, type SafetensorsEntry } from '@vla-lora/checkpoint-io';
import { getPi0Config, pi0Variants } from '@vla-lora/gemma-config';
import { SeededRandom } from '../rng/random-source.js';
import { hasTorch, maxAbsDiff, setupBackend } from '../test-support.js';
import { sampleFlowTime } from './flow-matching.js';
import { savePi0Weights } from './load.js';
import { Pi0Policy } from './policy.js';
import { tinyBatch } from './test-batch.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/torch_pi0.py', import.meta.url));

async function f32Entry(name: string, t: tf.Tensor | Float32Array, shape?: number[]): Promise<SafetensorsEntry> {
  const data = t instanceof Float32Array ? t : ((await t.data()) as Float32Array);
  return {
    name,
    dtype: 'F32',
    shape: shape ?? (t as tf.Tensor).shape,
    data: new Uint8Array(Float32Array.from(data).buffer),
  };
}

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
    const entries: SafetensorsEntry[] = [];
    for (const [c, img] of batch.images.entries()) {
      entries.push(await f32Entry(`image${c}`, img));
      entries.push(await f32Entry(`image_mask${c}`, Float32Array.from(batch.imageMasks[c]!, Number), [B]));
    }
    entries.push(await f32Entry('tokens', tf.cast(batch.tokens, 'float32')));
    entries.push(
      await f32Entry('token_mask', Float32Array.from(batch.tokenMasks.flatMap((r) => Array.from(r, Number))), [
        B,
        cfg.maxTokenLen,
      ]),
    );
    entries.push(
      await f32Entry('state', batch.state),
      await f32Entry('actions', batch.actions),
      await f32Entry('noise', noise),
      await f32Entry('time', times, [B]),
    );
    await writeSafetensors(join(tmp, 'in.safetensors'), entries);
    const { paligemma } = pi0Variants(cfg);
    const c = {
      heads: paligemma.numHeads,
      kv_heads: paligemma.numKvHeads,
      head_dim: paligemma.headDim,
      depth: paligemma.depth,
      siglip_heads: cfg.siglip.numHeads,
      patch: cfg.siglip.patchSize,
      horizon: cfg.actionHorizon,
      num_steps: 10,
      eps: 1e-6,
      theta: 10000,
    };
    await writeFile(join(tmp, 'cfg.json'), JSON.stringify(c));
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
