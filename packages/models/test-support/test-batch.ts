// A random pi0 batch for tests (repo-only: `@vla-lora/models/test-support`, never in dist).
import * as tf from '@tensorflow/tfjs-core';
import type { Pi0Config } from '@vla-lora/gemma-config';
import { SeededRandom } from '../src/rng/random-source.js';
import type { Pi0Batch } from '../src/pi0/policy.js';

/** Images/state/actions uniform in [-1, 1]; the third camera missing on odd rows; some prompt padding. */
export function tinyBatch(cfg: Pi0Config, batch: number, seed: number): Pi0Batch {
  const rng = new SeededRandom(seed);
  const u = (n: number, lo = -1, hi = 1): Float32Array =>
    Float32Array.from({ length: n }, () => lo + (hi - lo) * rng.uniform());
  const px = cfg.siglip.imageSize;
  const L = cfg.maxTokenLen;
  return {
    images: cfg.imageKeys.map(() => tf.tensor4d(u(batch * px * px * 3), [batch, px, px, 3])),
    imageMasks: cfg.imageKeys.map((_, c) => Array.from({ length: batch }, (_, b) => !(c === 2 && b % 2 === 1))),
    tokens: tf.tensor2d(
      Int32Array.from({ length: batch * L }, () => Math.floor(rng.uniform() * cfg.vocabSize)),
      [batch, L],
      'int32',
    ),
    tokenMasks: Array.from({ length: batch }, (_, b) => Array.from({ length: L }, (_, j) => j < L - (b % 4))),
    state: tf.tensor2d(u(batch * cfg.actionDim), [batch, cfg.actionDim]),
    actions: tf.tensor3d(u(batch * cfg.actionHorizon * cfg.actionDim), [batch, cfg.actionHorizon, cfg.actionDim]),
  };
}
