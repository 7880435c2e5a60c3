// LeRobot/LIBERO batch (typed arrays, lerobot-data) -> pi0 batch (tfjs tensors, models).
import * as tf from '@tensorflow/tfjs-core';
import type { Pi0Config } from '@vla-lora/gemma-config';
import type { LiberoBatch } from '@vla-lora/lerobot-data';
import type { Pi0Batch } from '@vla-lora/models';
import { Pi0ConfigError } from './errors.js';
import type { PromptTokenizer } from './prompt-tokenizer.js';

/** uint8 HWC -> float32 in [-1, 1] (openpi's image preprocessing). */
function imageTensor(bytes: Uint8Array, b: number, h: number, w: number): tf.Tensor4D {
  const f = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) f[i] = (bytes[i] as number) / 127.5 - 1;
  return tf.tensor4d(f, [b, h, w, 3]);
}

export function toPi0Batch(lb: LiberoBatch, cfg: Pi0Config, tokenizer: PromptTokenizer): Pi0Batch {
  if (lb.height !== cfg.siglip.imageSize || lb.width !== cfg.siglip.imageSize) {
    throw new Pi0ConfigError(
      `dataset images are ${lb.height}x${lb.width} but the model's SigLIP takes ${cfg.siglip.imageSize}x${cfg.siglip.imageSize}; regenerate the data with imageSize ${cfg.siglip.imageSize} or pick a matching config`,
    );
  }
  const b = lb.size;
  const cams = cfg.imageKeys as Array<keyof LiberoBatch['images']>;
  for (const c of cams)
    if (!(c in lb.images))
      throw new Pi0ConfigError(`the model expects camera ${c}; the data has ${Object.keys(lb.images).join(', ')}`);
  const tok = tokenizer.encode(lb.prompts);
  const horizon = lb.actions.length / (b * cfg.actionDim);
  if (horizon !== cfg.actionHorizon)
    throw new Pi0ConfigError(`action chunks have ${horizon} steps, the model ${cfg.actionHorizon}`);
  return {
    images: cams.map((c) => imageTensor(lb.images[c], b, lb.height, lb.width)),
    imageMasks: cams.map((c) => Array.from(lb.imageMask[c], (m) => m === 1)),
    tokens: tf.tensor2d(tok.ids, [b, tokenizer.maxLen], 'int32'),
    tokenMasks: tok.masks,
    state: tf.tensor2d(lb.state, [b, cfg.actionDim]),
    actions: tf.tensor3d(lb.actions, [b, cfg.actionHorizon, cfg.actionDim]),
  };
}

export function disposePi0Batch(batch: Pi0Batch): void {
  for (const t of batch.images) t.dispose();
  batch.tokens.dispose();
  batch.state.dispose();
  batch.actions.dispose();
}
