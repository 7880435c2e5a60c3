// Normalisations as transformers computes them (float32 throughout on tfjs).
import * as tf from '@tensorflow/tfjs-core';

/** GemmaRMSNorm: x * rsqrt(mean(x^2, -1) + eps) * (1 + weight). */
export function gemmaRmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const variance = tf.mean(tf.square(x), -1, true);
    const normed = tf.mul(x, tf.rsqrt(tf.add(variance, eps)));
    return tf.mul(normed, tf.add(weight, 1));
  });
}

/** nn.LayerNorm over the last axis (biased variance), with affine weight and bias. */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor, bias: tf.Tensor, eps: number): tf.Tensor {
  return tf.tidy(() => {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, eps)));
    return tf.add(tf.mul(normed, weight), bias);
  });
}
