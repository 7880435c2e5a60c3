import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  checkpointedInputBytes,
  inferActivationStacks,
  layerActivationBytes,
  pi0ActivationStacks,
  stackActivationBytes,
} from './activation-stacks.js';
import { InvalidConfigError } from './errors.js';
import { gemmaCausalLmSpecs, type HfGemmaConfig } from './gemma-specs.js';
import { memoryBill, formatBytes } from './memory-bill.js';
import type { ParamSpec } from './param-spec.js';
import { isLoraPath, isUnder } from './path-segments.js';
import { getPi0Config } from './pi0-config.js';
import { PI0_HEADS, pi0ParamSpecs } from './pi0-specs.js';
import { OPENPI_PUBLISHED_MEMORY, pi0MemoryBill } from './pi0-memory.js';

const hf = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../fixtures/peft-tiny-gemma/base/config.json', import.meta.url)), 'utf8'),
) as HfGemmaConfig;
const seven = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;

describe('memoryBill', () => {
  it('tiny Gemma + LoRA: weights, LoRA-only gradients, AdamW moments and the documented activation formula', () => {
    const specs = gemmaCausalLmSpecs(hf, { lora: { rank: 8, targets: seven } });
    const bill = memoryBill({
      specs,
      trainable: (s) => isLoraPath(s.path),
      batchSize: 2,
      seqLen: 12,
      dtype: 'float32',
      optimizer: 'adamw',
      numHeads: 4,
    });
    const row = (k: string) => bill.rows.find((r) => r.item === k)?.bytesPerDevice;
    expect(row('weights')).toBe(102_208 * 4);
    expect(row('gradients')).toBe(15_872 * 4);
    expect(row('optimizer')).toBe(15_872 * 8);
    // per layer and token: 4h + 2q + 2kv + 4m + heads*keys = 256 + 128 + 32 + 512 + 48 = 976 elements
    expect(row('activations')).toBe(976 * 12 * 2 /* layers */ * 4 /* bytes */ * 2 /* batch */);
    expect(bill.stacks).toEqual([
      { name: 'model', layers: 2, tokens: 12, hidden: 64, qDim: 64, kvDim: 16, numHeads: 4, mlpDim: 128, mlp: 'gated' },
    ]);
    expect(bill.perDeviceBytes).toBe(102_208 * 4 + 15_872 * 12 + 976 * 12 * 2 * 4 * 2);
    expect(bill.table).toContain('activations');
  });

  it('pi0 LoRA on 4 devices: ZeRO stages shard optimizer, then gradients, then weights', () => {
    const specs = pi0ParamSpecs(getPi0Config('pi0_lora'));
    const trainable = (s: ParamSpec) => isLoraPath(s.path) || PI0_HEADS.some((h) => isUnder(s.path, h));
    const stacks = pi0ActivationStacks(getPi0Config('pi0_lora'));
    const base = {
      specs,
      trainable,
      batchSize: 4,
      dtype: 'bfloat16' as const,
      optimizer: 'adamw' as const,
      devices: 4,
      stacks,
    };
    const weights = specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1) * (s.dtype === 'float32' ? 4 : 2), 0);
    const by = (stage: 0 | 1 | 2 | 3) =>
      Object.fromEntries(memoryBill({ ...base, zeroStage: stage }).rows.map((r) => [r.item, r.bytesPerDevice]));
    expect(by(0)).toMatchObject({ weights, gradients: 36_720_672 * 4, optimizer: 36_720_672 * 8 });
    expect(by(1)).toMatchObject({ weights, gradients: 36_720_672 * 4, optimizer: (36_720_672 * 8) / 4 });
    expect(by(2)).toMatchObject({ weights, gradients: 36_720_672, optimizer: (36_720_672 * 8) / 4 });
    expect(by(3)).toMatchObject({ weights: Math.ceil(weights / 4), gradients: 36_720_672 });
    expect(by(0).activations).toBe(by(3).activations);
  });

  it('pi0 stacks: SigLIP per camera, PaliGemma on the prefix, the expert attending to prefix + suffix; checkpointing keeps layer inputs', () => {
    const [siglip, pg, ex] = pi0ActivationStacks(getPi0Config('pi0'));
    expect(siglip).toMatchObject({
      layers: 27,
      tokens: 256,
      sequences: 3,
      hidden: 1152,
      mlpDim: 4304,
      mlp: 'plain',
      numHeads: 16,
    });
    expect(pg).toMatchObject({ layers: 18, tokens: 816, hidden: 2048, qDim: 2048, kvDim: 256, mlpDim: 16_384 });
    expect(ex).toMatchObject({ layers: 18, tokens: 51, keys: 867, hidden: 1024 });
    if (!pg) throw new Error('no stack');
    expect(stackActivationBytes(pg, 2, true)).toBe(18 * 816 * 2048 * 2 + stackActivationBytes(pg, 2, false) / 18);
    expect(inferActivationStacks(pi0ParamSpecs(getPi0Config('pi0')), 10).map((s) => s.name)).toEqual([
      'paligemma_with_expert.paligemma.model.vision_tower.vision_model.encoder',
      'paligemma_with_expert.paligemma.model.language_model',
      'paligemma_with_expert.gemma_expert.model',
    ]);
  });

  it('float32 masters over a bf16 frozen base, EMA, and checkpointing: layer inputs kept, the largest layer recomputed', () => {
    const cfg = getPi0Config('pi0_lora');
    const specs = pi0ParamSpecs(cfg);
    const isTrainable = (s: ParamSpec) => isLoraPath(s.path) || PI0_HEADS.some((h) => isUnder(s.path, h));
    const stacks = pi0ActivationStacks(cfg);
    const bill = memoryBill({
      specs,
      trainable: isTrainable,
      batchSize: 32,
      dtype: 'bfloat16',
      optimizer: 'adamw',
      stacks,
      gradientCheckpointing: true,
      trainableDtype: 'float32',
      frozenDtype: 'bfloat16',
      ema: true,
    });
    const row = (k: string) => bill.rows.find((r) => r.item === k)?.bytesPerDevice;
    const frozen = specs.filter((s) => !isTrainable(s)).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
    expect(frozen + 36_720_672).toBe(3_534_844_688);
    expect(row('weights')).toBe(frozen * 2 + 36_720_672 * 4);
    expect(row('gradients')).toBe(36_720_672 * 4);
    expect(row('ema')).toBe(36_720_672 * 4);
    // Layer inputs: SigLIP 3 cameras x 27 layers x 256 x 1152, PaliGemma 18 x 816 x 2048, expert 18 x 51 x 1024 (bf16).
    const kept = (3 * 27 * 256 * 1152 + 18 * 816 * 2048 + 18 * 51 * 1024) * 2;
    expect(stacks.reduce((a, st) => a + checkpointedInputBytes(st, 2), 0)).toBe(kept);
    expect(row('activations')).toBe(kept * 32);
    // The largest layer is a PaliGemma layer: 816 tokens x (4h + 2q + 2kv + 4 mlp + 8 heads x 816 keys).
    const pgLayer = 816 * (4 * 2048 + 2 * 2048 + 2 * 256 + 4 * 16_384 + 8 * 816) * 2;
    expect(Math.max(...stacks.map((st) => layerActivationBytes(st, 2)))).toBe(pgLayer);
    expect(row('recompute')).toBe(2 * pgLayer * 32);
    expect(bill.table).toContain('recompute');
  });

  it("pi0 as openpi trains it: LoRA at batch 32 and full fine-tuning with EMA land near openpi's published figures", () => {
    const GIB = 1024 ** 3;
    const lora = getPi0Config('pi0_lora');
    const loraBill = pi0MemoryBill(lora, {
      specs: pi0ParamSpecs(lora),
      trainable: (s) => isLoraPath(s.path) || PI0_HEADS.some((h) => isUnder(s.path, h)),
      batchSize: 32,
    });
    expect(loraBill.rows.map((r) => r.item)).toEqual(['weights', 'gradients', 'optimizer', 'activations', 'recompute']);
    expect(loraBill.perDeviceBytes / GIB).toBeGreaterThan(16);
    expect(loraBill.perDeviceBytes / GIB).toBeLessThan(30);
    // openpi: LoRA "> 22.5 GB" fits a 24 GB card; the bill excludes temporaries, so it sits below 24 GB.
    expect(loraBill.perDeviceBytes).toBeLessThan(24e9);
    const full = getPi0Config('pi0');
    const fullBill = pi0MemoryBill(full, {
      specs: pi0ParamSpecs(full),
      trainable: () => true,
      batchSize: 32,
      ema: true,
    });
    expect(fullBill.perDeviceBytes / GIB).toBeGreaterThan(60);
    expect(fullBill.perDeviceBytes / GIB).toBeLessThan(100);
    expect(fullBill.perDeviceBytes).toBeGreaterThan(OPENPI_PUBLISHED_MEMORY.full.bytes);
    // Toy float32 configs: no checkpointing by default, every layer kept.
    const tiny = getPi0Config('pi0_tiny_lora');
    const tinyBill = pi0MemoryBill(tiny, {
      specs: pi0ParamSpecs(tiny),
      trainable: (s) => isLoraPath(s.path),
      batchSize: 8,
    });
    expect(tinyBill.rows.map((r) => r.item)).toEqual(['weights', 'gradients', 'optimizer', 'activations']);
  });

  it('refuses to guess without a sequence length, and formats bytes', () => {
    expect(() =>
      memoryBill({ specs: [], trainable: () => true, batchSize: 1, dtype: 'float32', optimizer: 'adamw' }),
    ).toThrow(InvalidConfigError);
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.00 GiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });
});
