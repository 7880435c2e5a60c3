// What scripts/torch_pi0.py (the torch reference of openpi's pi0 math) reads, written in one place for the
// torch oracle test, the GPU step's PyTorch spec and pi0's bench against torch: the model config JSON
// (heads, depth, patch, horizon …) and the inputs file (images + masks, tokens + mask, state, actions, noise,
// time). Repo-only (`@vla-lora/models/test-support`), never in dist.
import * as tf from '@tensorflow/tfjs-core';
import type { SafetensorsEntry } from '@vla-lora/checkpoint-io';
import { type Pi0Config, pi0Variants } from '@vla-lora/gemma-config';
import type { Pi0Batch } from '../src/index.js';

/** torch_pi0.py's config: the PaliGemma attention shape, SigLIP heads and patch, the action horizon. */
export interface TorchPi0Config {
  heads: number;
  kv_heads: number;
  head_dim: number;
  depth: number;
  siglip_heads: number;
  patch: number;
  horizon: number;
  /** Euler steps of the sampled actions. */
  num_steps: number;
  /** RMSNorm epsilon. */
  eps: number;
  /** RoPE base. */
  theta: number;
}

/** The torch_pi0.py config of `cfg` (10 sampling steps, RMSNorm eps 1e-6, RoPE theta 10000). */
export function torchPi0Config(cfg: Pi0Config): TorchPi0Config {
  const { paligemma } = pi0Variants(cfg);
  return {
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
}

/** A float32 safetensors entry of a tensor (its shape) or of an array (`shape` given). */
export async function f32Entry(name: string, t: tf.Tensor | Float32Array, shape?: number[]): Promise<SafetensorsEntry> {
  const data = t instanceof Float32Array ? t : ((await t.data()) as Float32Array);
  return {
    name,
    dtype: 'F32',
    shape: shape ?? (t as tf.Tensor).shape,
    data: new Uint8Array(Float32Array.from(data).buffer),
  };
}

/**
 * The inputs torch_pi0.py reads, all float32: image<c> and image_mask<c> per camera, tokens and token_mask
 * [B, maxTokenLen], state, actions, and the flow-matching draws (noise, time) both sides use.
 */
export async function torchPi0Inputs(
  cfg: Pi0Config,
  batch: Pi0Batch,
  noise: tf.Tensor,
  times: Float32Array,
): Promise<SafetensorsEntry[]> {
  const B = times.length;
  const entries: SafetensorsEntry[] = [];
  for (const [c, img] of batch.images.entries()) {
    entries.push(await f32Entry(`image${c}`, img));
    entries.push(await f32Entry(`image_mask${c}`, Float32Array.from(batch.imageMasks[c]!, Number), [B]));
  }
  const tokens = tf.cast(batch.tokens, 'float32');
  entries.push(await f32Entry('tokens', tokens));
  tokens.dispose();
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
  return entries;
}
