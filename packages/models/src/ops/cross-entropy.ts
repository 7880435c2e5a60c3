// The causal-LM loss as transformers computes it (ForCausalLMLoss): logits[:, :-1] against
// labels[:, 1:], ignore_index -100, mean over the counted tokens.
import * as tf from '@tensorflow/tfjs-core';
import { InputShapeError } from '../errors.js';

export const IGNORE_INDEX = -100;

/** Token cross-entropy of logits [N, V] against int labels [N] (IGNORE_INDEX skipped): the mean. */
export function crossEntropyMean(logits: tf.Tensor2D, labels: ArrayLike<number>): tf.Scalar {
  const [n, vocab] = logits.shape;
  if (labels.length !== n) throw new InputShapeError(`${labels.length} labels for ${n} logit rows`);
  const idx = new Int32Array(n);
  const weight = new Float32Array(n);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const l = labels[i]!;
    if (l === IGNORE_INDEX) continue;
    if (!Number.isInteger(l) || l < 0 || l >= vocab)
      throw new InputShapeError(`label ${l} at ${i} is outside [0, ${vocab}) and is not ${IGNORE_INDEX}`);
    idx[i] = l;
    weight[i] = 1;
    count++;
  }
  if (count === 0) throw new InputShapeError('every label is ignored (-100); the loss would be 0/0');
  return tf.tidy(() => {
    const lse = tf.logSumExp(logits, -1); // [N]
    const picked = tf.sum(tf.mul(logits, oneHotFloat(tf.tensor1d(idx, 'int32'), vocab)), -1);
    const nll = tf.mul(tf.sub(lse, picked), tf.tensor1d(weight));
    return tf.div(tf.sum(nll), count) as tf.Scalar;
  });
}

/** transformers' shifted causal-LM loss for logits [B, S, V] and labels [B][S]. */
export function causalLmLoss(logits: tf.Tensor, labels: ArrayLike<number>[]): tf.Scalar {
  const [b, s, vocab] = logits.shape as [number, number, number];
  if (labels.length !== b || labels.some((r) => r.length !== s))
    throw new InputShapeError(`labels must be [${b}][${s}]`);
  if (s < 2) throw new InputShapeError('a causal-LM loss needs sequences of at least 2 tokens');
  return tf.tidy(() => {
    const shifted = tf.reshape(tf.slice(logits, [0, 0, 0], [b, s - 1, vocab]), [b * (s - 1), vocab]) as tf.Tensor2D;
    const lab = new Int32Array(b * (s - 1));
    for (let i = 0; i < b; i++) for (let j = 1; j < s; j++) lab[i * (s - 1) + j - 1] = labels[i]![j]!;
    return crossEntropyMean(shifted, lab);
  });
}

/**
 * One-hot rows as float32. tfjs-backend-wasm 4.22 fills a float32 oneHot with the int bit pattern
 * (1 reads as 1.4e-45), so it is built in int32 and cast.
 */
export function oneHotFloat(indices: tf.Tensor1D, depth: number): tf.Tensor2D {
  return tf.tidy(() => tf.cast(tf.oneHot(indices, depth), 'float32') as tf.Tensor2D);
}
