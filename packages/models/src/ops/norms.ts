// Normalisations as transformers computes them (float32 throughout on tfjs).
import * as tf from '@tensorflow/tfjs-core';

/**
 * GemmaRMSNorm: x * rsqrt(mean(x^2, -1) + eps) * (1 + weight). The gradient is written out (one tape
 * node): the same kernels, in the same order, as tfjs's autodiff of this expression — so the same
 * float32 values — minus the float32-to-float32 Cast copies and the multiply by ones that tfjs's
 * Multiply / Mean gradients add. The weight gets a gradient only when it is trainable (or a plain tensor).
 */
export function gemmaRmsNorm(x: tf.Tensor, weight: tf.Tensor, eps: number): tf.Tensor {
  const d = x.shape[x.rank - 1]!;
  const wantW = weight instanceof tf.Variable ? weight.trainable : true;
  const leading = x.shape.slice(0, -1).map((_, i) => i);
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xi = args[0] as tf.Tensor;
    const w = wantW ? (args[1] as tf.Tensor) : weight;
    const ve = tf.add(tf.mean(tf.square(xi), -1, true), eps);
    const r = tf.rsqrt(ve);
    const normed = tf.mul(xi, r);
    const w1 = tf.add(w, 1);
    save(wantW ? [xi, ve, r, w1, normed] : [xi, ve, r, w1]);
    return {
      value: tf.mul(normed, w1),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ves, rs, w1s, ns] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor | undefined];
        const dn = tf.mul(dy, w1s); // d normed
        const dxa = tf.mul(dn, rs); // through x * r
        const dr = tf.sum(tf.mul(dn, xs), -1, true); // d r
        const dve = tf.neg(tf.div(dr, tf.mul(tf.pow(ves, 1.5), 2))); // Rsqrt's gradient
        const dxb = tf.mul(tf.div(dve, d), tf.mul(xs, 2)); // Mean's, then Square's
        const grads = [tf.add(dxa, dxb)];
        if (wantW) grads.push(tf.reshape(tf.sum(tf.mul(dy, ns!), leading), [d]));
        return grads;
      },
    };
  });
  return tf.tidy(() => (wantW ? f(x, weight) : f(x)));
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
