import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getPi0Config } from '@vla-lora/gemma-config';
import {
  computeNormStatsCommand,
  generateLiberoDataset,
  LeRobotDataset,
  LiberoView,
  loadNormStats,
  type LiberoBatch,
} from '@vla-lora/lerobot-data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuTempDir, type TempDir } from '../test-support/index.js';
import { disposePi0Batch, toPi0Batch } from './batch.js';
import { Pi0DataSource } from './data-source.js';
import { evalPositions } from './eval.js';
import { cleanPrompt, WordHashTokenizer } from './prompt-tokenizer.js';
import { pi0UnusedByDesign } from './unused.js';

const cfg = getPi0Config('pi0_tiny_lora');
let tmp: TempDir;
beforeAll(async () => {
  tmp = await cpuTempDir('pi0-pieces-');
});
afterAll(() => tmp?.remove());

describe('prompt tokenizer', () => {
  it('BOS, words, newline; padded with a mask; deterministic; distinguishes the task words', () => {
    const t = new WordHashTokenizer(1024, 8);
    expect(cleanPrompt('  Pick_up the RED block ')).toEqual(['pick', 'up', 'the', 'red', 'block']);
    const e = t.encode(['pick up the red block', 'pick up the blue block']);
    expect(Array.from(e.ids.subarray(0, 8)).slice(0, 1)).toEqual([2]);
    expect(e.ids[6]).toBe(3);
    expect(e.masks[0]).toEqual([true, true, true, true, true, true, true, false]);
    expect(e.ids[4]).not.toBe(e.ids[12]); // red vs blue
    expect(Array.from(t.encode(['pick up the red block']).ids)).toEqual(Array.from(e.ids.subarray(0, 8)));
    for (const id of e.ids) expect(id).toBeLessThan(1024);
    expect(t.encode(['a b c d e f g h i j']).masks[0]!.every(Boolean)).toBe(true); // truncated to maxLen
  });
});

describe('pi0 unused-by-design parameters', () => {
  it('accepts only the last PaliGemma layer o_proj/MLP', () => {
    const f = pi0UnusedByDesign(cfg);
    const last = 'paligemma_with_expert.paligemma.model.language_model.layers.1';
    expect(f(`${last}.self_attn.o_proj.lora_A.default.weight`)).toMatch(/never reads the prefix output/);
    expect(f(`${last}.mlp.down_proj.lora_B.default.weight`)).not.toBeNull();
    expect(f(`${last}.self_attn.q_proj.lora_A.default.weight`)).toBeNull();
    expect(
      f('paligemma_with_expert.paligemma.model.language_model.layers.0.mlp.up_proj.lora_A.default.weight'),
    ).toBeNull();
    expect(f('paligemma_with_expert.gemma_expert.model.layers.1.mlp.up_proj.lora_A.default.weight')).toBeNull();
    expect(f('action_out_proj.weight')).toBeNull();
  });
});

describe('LIBERO batch -> pi0 batch', () => {
  it('scales images to [-1, 1], keeps masks, shapes match the model', () => {
    const b = 2;
    const px = cfg.siglip.imageSize;
    const img = () => Uint8Array.from({ length: b * px * px * 3 }, (_, i) => (i * 7) % 256);
    const lb: LiberoBatch = {
      size: b,
      positions: [0, 1],
      prompts: ['touch the blue block', 'pick up the red block'],
      state: new Float32Array(b * cfg.actionDim).fill(0.5),
      actions: new Float32Array(b * cfg.actionHorizon * cfg.actionDim).fill(-0.25),
      actionIsPad: new Uint8Array(b * cfg.actionHorizon),
      height: px,
      width: px,
      images: { base_0_rgb: img(), left_wrist_0_rgb: img(), right_wrist_0_rgb: new Uint8Array(b * px * px * 3) },
      imageMask: {
        base_0_rgb: Uint8Array.of(1, 1),
        left_wrist_0_rgb: Uint8Array.of(1, 1),
        right_wrist_0_rgb: Uint8Array.of(0, 0),
      },
    };
    const batch = toPi0Batch(lb, cfg, new WordHashTokenizer(cfg.vocabSize, cfg.maxTokenLen));
    expect(batch.images.map((t) => t.shape)).toEqual([
      [b, px, px, 3],
      [b, px, px, 3],
      [b, px, px, 3],
    ]);
    const d = batch.images[0]!.dataSync();
    expect(d[0]).toBe(-1);
    expect(d[1]).toBeCloseTo(7 / 127.5 - 1, 6);
    expect(batch.imageMasks[2]).toEqual([false, false]);
    expect(batch.tokens.shape).toEqual([b, cfg.maxTokenLen]);
    expect(batch.tokens.dtype).toBe('int32');
    expect(batch.actions.shape).toEqual([b, cfg.actionHorizon, cfg.actionDim]);
    disposePi0Batch(batch);
    expect(() =>
      toPi0Batch({ ...lb, height: 16, width: 16 }, cfg, new WordHashTokenizer(cfg.vocabSize, cfg.maxTokenLen)),
    ).toThrow(/regenerate the data/);
  });

  it('the data source resumes from its cursor with the same batches', async () => {
    const ds = join(tmp.path, 'libero');
    await generateLiberoDataset(ds, { episodes: 3, heldOut: 1, steps: 8, imageSize: cfg.siglip.imageSize, seed: 3 });
    await computeNormStatsCommand({ dataset: ds, actionHorizon: cfg.actionHorizon });
    const stats = await loadNormStats(join(ds, 'norm_stats.json'));
    const view = new LiberoView(await LeRobotDataset.open(ds, { episodes: 'train' }), {
      actionHorizon: cfg.actionHorizon,
      modelActionDim: cfg.actionDim,
      normStats: stats,
    });
    const tok = new WordHashTokenizer(cfg.vocabSize, cfg.maxTokenLen);
    const a = new Pi0DataSource(view, cfg, tok, 4, 9);
    for (let i = 0; i < 7; i++) a.disposeBatch(await a.next()); // crosses an epoch (24 frames / 4)
    const cursor = JSON.parse(JSON.stringify(a.cursor())) as unknown;
    expect(a.epoch()).toBeGreaterThan(1);
    const b = new Pi0DataSource(view, cfg, tok, 4, 9);
    b.restore(cursor as never);
    for (let i = 0; i < 3; i++) {
      const x = await a.next();
      const y = await b.next();
      expect(Array.from(x.state.dataSync())).toEqual(Array.from(y.state.dataSync()));
      expect(Array.from(x.actions.dataSync())).toEqual(Array.from(y.actions.dataSync()));
      expect(Array.from(x.images[0]!.dataSync())).toEqual(Array.from(y.images[0]!.dataSync()));
      a.disposeBatch(x);
      b.disposeBatch(y);
    }
  });
});

describe('evalPositions', () => {
  it('spreads over the held-out frames', () => {
    expect(evalPositions(10, 4)).toEqual([0, 2, 5, 7]);
    expect(evalPositions(3, 8)).toEqual([0, 1, 2]);
  });
});

void tf;
