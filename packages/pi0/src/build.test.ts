// --base-weights: an openpi PyTorch-layout model.safetensors is loaded strictly before LoRA wraps.
import { join } from 'node:path';
import { writeSafetensors } from '@vla-lora/checkpoint-io';
import { getPi0Config } from '@vla-lora/gemma-config';
import { namedParameters } from '@vla-lora/lora-core';
import { Pi0Policy } from '@vla-lora/models';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuTempDir, type TempDir } from '../test-support/index.js';
import { applyOverrides, getTrainConfig } from './config/index.js';
import { Philox } from '@vla-lora/trainer';
import { buildPi0 } from './build.js';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await cpuTempDir('pi0-build-');
});
afterAll(() => tmp?.remove());

describe('buildPi0', () => {
  it('loads base weights from a PyTorch-layout file (strict), then wraps LoRA around them', async () => {
    const cfg = applyOverrides(getTrainConfig('pi0_libero_lora_tiny'), []);
    const src = Pi0Policy.create(getPi0Config(cfg.model.pi0), { init: 'random', rng: new Philox(77) });
    const entries = [];
    for (const [name, v] of namedParameters(src)) {
      const d = new Float32Array((await v.data()) as Float32Array);
      entries.push({ name, dtype: 'F32' as const, shape: [...v.shape], data: new Uint8Array(d.buffer) });
    }
    const file = join(tmp.path, 'model.safetensors');
    await writeSafetensors(file, entries);

    const built = await buildPi0(cfg, { baseWeights: tmp.path });
    expect(built.weightsFrom.startsWith(`${tmp.path} (`)).toBe(true);
    expect(built.weightsFrom).toMatch(
      /\((\d+) tensors, [\d,]+ values loaded, strict\) — weights: openpi PyTorch layout/,
    );
    expect(Number(/\((\d+) tensors/.exec(built.weightsFrom)![1])).toBe(entries.length);
    const got = new Map(namedParameters(built.policy));
    const q = 'paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj';
    const want = await src
      .namedParameters()
      .find(([n]) => n === `${q}.weight`)![1]
      .data();
    expect(Array.from((await got.get(`${q}.base_layer.weight`)!.data()) as Float32Array)).toEqual(
      Array.from(want as Float32Array),
    );
    expect(got.has(`${q}.lora_A.default.weight`)).toBe(true);
    expect(built.inject.count).toBeGreaterThan(0);

    // a file missing a tensor is refused (no half-loaded base)
    await writeSafetensors(join(tmp.path, 'partial.safetensors'), entries.slice(1));
    await expect(buildPi0(cfg, { baseWeights: join(tmp.path, 'partial.safetensors') })).rejects.toThrow(
      /missing|not in the file|absent/i,
    );
  });
});
