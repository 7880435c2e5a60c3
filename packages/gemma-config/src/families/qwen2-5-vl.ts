// Qwen2.5-VL (Qwen2_5_VLForConditionalGeneration) from its config.json: the vision tower (Conv3d patch embed,
// RMSNorm blocks with a fused qkv and a gated SiLU MLP, window attention except in fullatt_block_indexes), the
// patch merger (2×2 patches → out_hidden_size), the Qwen2 language model and the tied (3B) or untied (7B) head.
// Names are the checkpoint's (`visual.*`, `model.*`, `lm_head`), as in model-0000N-of-0000M.safetensors.
import { InvalidConfigError } from '../errors.js';
import type { ParamDtype } from '../param-spec.js';
import { decoderModules, type HfDecoderConfig } from './llama.js';
import { mod, type ModuleSpec } from './modules.js';

export interface Qwen25VlVisionConfig {
  depth: number;
  hidden_size: number;
  intermediate_size: number;
  num_heads: number;
  in_chans: number;
  out_hidden_size: number;
  patch_size: number;
  spatial_merge_size: number;
  temporal_patch_size: number;
  window_size: number;
  fullatt_block_indexes: number[];
}

export interface Qwen25VlConfig extends HfDecoderConfig {
  vision_config: Qwen25VlVisionConfig;
}

/** 'full' or 'window' attention per vision block (Qwen2.5-VL's fullatt_block_indexes). */
export function qwenVisionBlockAttention(v: Qwen25VlVisionConfig): Array<'full' | 'window'> {
  const full = new Set(v.fullatt_block_indexes);
  for (const i of full)
    if (!Number.isInteger(i) || i < 0 || i >= v.depth)
      throw new InvalidConfigError(`fullatt_block_indexes has ${i}, outside the ${v.depth} vision blocks.`);
  return Array.from({ length: v.depth }, (_, i) => (full.has(i) ? 'full' : 'window'));
}

/** Patches per attention window: (window_size / patch_size)² (112 px windows of 14 px patches: 64). */
export function qwenWindowPatches(v: Qwen25VlVisionConfig): number {
  const side = v.window_size / v.patch_size;
  if (!Number.isInteger(side)) throw new InvalidConfigError('window_size must be a multiple of patch_size.');
  return side * side;
}

export function qwen25VlVisionModules(v: Qwen25VlVisionConfig, dtype: ParamDtype, prefix = 'visual'): ModuleSpec[] {
  const w = v.hidden_size;
  const out: ModuleSpec[] = [
    {
      path: `${prefix}.patch_embed.proj`,
      kind: 'Conv3d',
      inFeatures: v.in_chans,
      outFeatures: w,
      kernel: [v.temporal_patch_size, v.patch_size, v.patch_size],
      bias: false,
      dtype,
    },
  ];
  qwenVisionBlockAttention(v); // validates the indexes
  for (let i = 0; i < v.depth; i++) {
    const p = `${prefix}.blocks.${i}`;
    out.push(
      mod.rmsNorm(`${p}.norm1`, w, dtype),
      mod.rmsNorm(`${p}.norm2`, w, dtype),
      mod.linear(`${p}.attn.qkv`, w, 3 * w, true, dtype),
      mod.linear(`${p}.attn.proj`, w, w, true, dtype),
      mod.linear(`${p}.mlp.gate_proj`, w, v.intermediate_size, true, dtype),
      mod.linear(`${p}.mlp.up_proj`, w, v.intermediate_size, true, dtype),
      mod.linear(`${p}.mlp.down_proj`, v.intermediate_size, w, true, dtype),
    );
  }
  const merged = w * v.spatial_merge_size * v.spatial_merge_size;
  out.push(
    mod.rmsNorm(`${prefix}.merger.ln_q`, w, dtype),
    mod.linear(`${prefix}.merger.mlp.0`, merged, merged, true, dtype),
    mod.linear(`${prefix}.merger.mlp.2`, merged, v.out_hidden_size, true, dtype),
  );
  return out;
}

/** Every module of Qwen2.5-VL (vision tower, merger, language model, head). */
export function qwen25VlModules(c: Qwen25VlConfig, dtype: ParamDtype = 'bfloat16'): ModuleSpec[] {
  if (c.vision_config.out_hidden_size !== c.hidden_size)
    throw new InvalidConfigError(
      `vision_config.out_hidden_size ${c.vision_config.out_hidden_size} must equal hidden_size ${c.hidden_size} (the merger feeds the language model).`,
    );
  return [
    ...qwen25VlVisionModules(c.vision_config, dtype),
    ...decoderModules(c, { prefix: 'model', lmHead: 'lm_head', qkvBias: true, dtype }),
  ];
}

/** LLaMA-Factory's module groups for qwen2_5_vl (COMPOSITE_MODELS): frozen by default with freeze_vision_tower. */
export const QWEN25_VL_VISION_KEYS: readonly string[] = ['visual.patch_embed', 'visual.blocks'];
export const QWEN25_VL_PROJECTOR_KEY = 'visual.merger';
