// Seeded random pi0 inputs shared by the bench scripts (not a bench itself: bench/run.ts never names it).
// The draw order is part of the figures: images (camera by camera), tokens, then state.
import * as tf from '@tensorflow/tfjs-core';
import type { Pi0Config } from '@vla-lora/gemma-config';
import type { Pi0Observation, SeededRandom } from '../src/index.js';

/** `n` values uniform in [-1, 1) drawn from `rng`. */
export function uniform(rng: SeededRandom, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => 2 * rng.uniform() - 1);
}

/** `batch` prompts of `cfg.maxTokenLen` token ids uniform over the vocabulary, every position valid. */
export function randomTokens(
  cfg: Pi0Config,
  batch: number,
  rng: SeededRandom,
): Pick<Pi0Observation, 'tokens' | 'tokenMasks'> {
  const L = cfg.maxTokenLen;
  return {
    tokens: tf.tensor2d(
      Int32Array.from({ length: batch * L }, () => Math.floor(rng.uniform() * cfg.vocabSize)),
      [batch, L],
      'int32',
    ),
    tokenMasks: Array.from({ length: batch }, () => Array.from({ length: L }, () => true)),
  };
}

/** A pi0 observation of `batch` samples: every camera present, values uniform in [-1, 1). */
export function randomObservation(cfg: Pi0Config, batch: number, rng: SeededRandom): Pi0Observation {
  const px = cfg.siglip.imageSize;
  const images = cfg.imageKeys.map(() => tf.tensor4d(uniform(rng, batch * px * px * 3), [batch, px, px, 3]));
  return {
    images,
    imageMasks: cfg.imageKeys.map(() => Array.from({ length: batch }, () => true)),
    ...randomTokens(cfg, batch, rng),
    state: tf.tensor2d(uniform(rng, batch * cfg.actionDim), [batch, cfg.actionDim]),
  };
}
