import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { bf16ToF32, f32ToBf16, writeSafetensors, type SafetensorsEntry } from '@vla-lora/checkpoint-io';
import { getPi0Config, PI0_PATHS } from '@vla-lora/gemma-config';
import { injectLora, namedParameters } from '@vla-lora/lora-core';
import { WeightsMismatchError } from '../errors.js';
import { SeededRandom } from '../rng/random-source.js';
import { maxAbsDiff, setupBackend } from '../test-support.js';
import { loadPi0Weights, savePi0Weights } from './load.js';
import { pi0LoraConfig } from './lora.js';
import { Pi0Policy } from './policy.js';
import { tinyBatch } from '../../test-support/test-batch.js';

describe("loading openpi's PyTorch-layout pi0 model.safetensors", () => {
  let tmp: string;
  const cfg = getPi0Config('pi0_tiny');
  beforeAll(async () => {
    await setupBackend();
    tmp = await mkdtemp(join(tmpdir(), 'pi0-load-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  /** openpi's layout written with checkpoint-io's writer: bf16 for paligemma_with_expert except SigLIP embeddings and norms. */
  async function writeOpenpiFile(
    src: Pi0Policy,
    path: string,
    opts: { headInsteadOfEmbed?: boolean; drop?: string; extra?: boolean; reshape?: string } = {},
  ): Promise<void> {
    const entries: SafetensorsEntry[] = [];
    for (const [name, v] of namedParameters(src)) {
      if (name === opts.drop) continue;
      const f32 = v.dataSync() as Float32Array;
      const keepF32 =
        !name.startsWith('paligemma_with_expert.') ||
        /embeddings\.(patch|position)_embedding|layernorm\.weight$|\.norm\.weight$/.test(name);
      const key =
        opts.headInsteadOfEmbed && name === `${PI0_PATHS.languageModel}.embed_tokens.weight`
          ? `${PI0_PATHS.paligemmaLmHead}.weight`
          : name;
      const shape = name === opts.reshape ? [...v.shape].reverse() : v.shape;
      if (keepF32) entries.push({ name: key, dtype: 'F32', shape, data: new Uint8Array(f32.buffer.slice(0)) });
      else entries.push({ name: key, dtype: 'BF16', shape, data: new Uint8Array(f32ToBf16(f32).buffer) });
    }
    if (opts.extra)
      entries.push({
        name: 'paligemma_with_expert.something_else.weight',
        dtype: 'F32',
        shape: [1],
        data: new Uint8Array(4),
      });
    await writeSafetensors(path, entries, { metadata: { format: 'pt' } });
  }

  it('round-trips every parameter (bf16 where openpi stores bf16) and gives the same actions', async () => {
    const src = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(21) });
    const file = join(tmp, 'model.safetensors');
    await writeOpenpiFile(src, file);
    const dst = Pi0Policy.create(cfg);
    const report = await loadPi0Weights(dst, tmp);
    expect(report.loaded).toBe(namedParameters(dst).length);
    const want = new Map(namedParameters(src));
    let bf16 = 0;
    for (const [name, v] of namedParameters(dst)) {
      const a = want.get(name)!.dataSync() as Float32Array;
      const b = v.dataSync() as Float32Array;
      const rounded = bf16ToF32(f32ToBf16(a));
      const exact = maxAbsDiff(a, b) === 0;
      if (!exact) {
        expect(maxAbsDiff(rounded, b)).toBe(0);
        bf16++;
      }
    }
    expect(bf16).toBeGreaterThan(10);
    // With the bf16-rounded weights in both, the sampled actions agree exactly.
    await loadPi0Weights(src, file);
    const batch = tinyBatch(cfg, 2, 3);
    const noise = tf.randomNormal([2, cfg.actionHorizon, cfg.actionDim], 0, 1, 'float32', 1);
    const a1 = src.sampleActions(batch, new SeededRandom(0), { noise });
    const a2 = dst.sampleActions(batch, new SeededRandom(0), { noise });
    expect(maxAbsDiff(a1.dataSync(), a2.dataSync())).toBe(0);
  });

  it('accepts the tied head under lm_head.weight, and our own writer round-trips', async () => {
    const src = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(22) });
    const file = join(tmp, 'head.safetensors');
    await writeOpenpiFile(src, file, { headInsteadOfEmbed: true });
    const dst = Pi0Policy.create(cfg);
    await loadPi0Weights(dst, file);
    const embed = `${PI0_PATHS.languageModel}.embed_tokens.weight`;
    const get = (p: Pi0Policy): Float32Array => new Map(namedParameters(p)).get(embed)!.dataSync() as Float32Array;
    expect(maxAbsDiff(bf16ToF32(f32ToBf16(get(src))), get(dst))).toBe(0);
    const ours = join(tmp, 'ours.safetensors');
    await savePi0Weights(src, ours);
    const again = Pi0Policy.create(cfg);
    await loadPi0Weights(again, ours);
    for (const [[n, a], [, b]] of namedParameters(src).map((e, i) => [e, namedParameters(again)[i]!] as const)) {
      if (maxAbsDiff(a.dataSync(), b.dataSync()) !== 0) throw new Error(`${n} differs after our round trip`);
    }
  });

  it('refuses missing, unexpected and reshaped tensors, naming them', async () => {
    const src = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(23) });
    const missing = 'action_out_proj.bias';
    await writeOpenpiFile(src, join(tmp, 'missing.safetensors'), { drop: missing });
    await expect(loadPi0Weights(Pi0Policy.create(cfg), join(tmp, 'missing.safetensors'))).rejects.toThrow(
      WeightsMismatchError,
    );
    await expect(loadPi0Weights(Pi0Policy.create(cfg), join(tmp, 'missing.safetensors'))).rejects.toThrow(
      /missing \[action_out_proj\.bias\]/,
    );
    await writeOpenpiFile(src, join(tmp, 'extra.safetensors'), { extra: true });
    await expect(loadPi0Weights(Pi0Policy.create(cfg), join(tmp, 'extra.safetensors'))).rejects.toThrow(
      /unexpected \[paligemma_with_expert\.something_else\.weight\]/,
    );
    await writeOpenpiFile(src, join(tmp, 'shape.safetensors'), { reshape: 'action_time_mlp_in.weight' });
    await expect(loadPi0Weights(Pi0Policy.create(cfg), join(tmp, 'shape.safetensors'))).rejects.toThrow(
      /wrong shape \[action_time_mlp_in\.weight/,
    );
  });

  it('a LoRA-wrapped policy reads base weights into base_layer and keeps its LoRA tensors', async () => {
    const loraCfg = getPi0Config('pi0_tiny_lora');
    const src = Pi0Policy.create(loraCfg, { init: 'random', rng: new SeededRandom(24) });
    await writeOpenpiFile(src, join(tmp, 'base.safetensors'));
    const dst = Pi0Policy.create(loraCfg);
    injectLora(dst, pi0LoraConfig(loraCfg));
    const report = await loadPi0Weights(dst, join(tmp, 'base.safetensors'));
    expect(report.skipped.length).toBe(2 * 2 * 7 * 2);
    expect(report.skipped.every((n) => n.includes('.lora_'))).toBe(true);
    const q = 'paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj';
    const a = new Map(namedParameters(src)).get(`${q}.weight`)!;
    const b = new Map(namedParameters(dst)).get(`${q}.base_layer.weight`)!;
    expect(maxAbsDiff(bf16ToF32(f32ToBf16(a.dataSync() as Float32Array)), b.dataSync())).toBe(0);
  });
});
