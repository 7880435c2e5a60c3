// Fast linear algebra for tfjs-wasm: plain 2-D matMuls only, forward AND backward.
//
// tfjs's own matMul gradient uses `transposeA` / `transposeB` and batched matMuls, which run
// 10-60x slower than a plain 2-D matMul on tfjs-wasm (docs/performance-notes.md). Here every
// product is `tf.matMul(a, b)` on rank-2 tensors with no transpose flags; transposes are explicit
// `tf.transpose` copies (about the cost of reading the operand once).
import * as tf from '@tensorflow/tfjs-core';

/** Flattens `[..., k]` to `[n, k]`; returns the 2-D view and the leading dims. */
export function flattenLeading(x: tf.Tensor): { x2d: tf.Tensor2D; lead: number[] } {
  if (x.rank < 1) throw new RangeError(`expected a tensor of rank >= 1, got a scalar`);
  const k = x.shape[x.rank - 1]!;
  const lead = x.shape.slice(0, -1);
  const x2d = (x.rank === 2 ? x : tf.reshape(x, [-1, k])) as tf.Tensor2D;
  return { x2d, lead };
}

/**
 * y = x W^T (+ b) for x [n, in], W [out, in] (PyTorch layout), b [out].
 * Gradients: dx = dy W, dW = dy^T x, db = sum_rows(dy), all plain 2-D matMuls.
 * Only the tensors passed in `inputs` get gradients: pass `weight` / `bias` only when trainable
 * (a frozen weight is closed over as a constant, and its gradient is never computed).
 */
export function linear2d(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  wantWeightGrad: boolean,
  wantBiasGrad: boolean,
): tf.Tensor2D {
  const inputs: tf.Tensor[] = [x];
  if (wantWeightGrad) inputs.push(weight);
  if (bias !== null && wantBiasGrad) inputs.push(bias);
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xi = args[0] as tf.Tensor2D;
    const wT = tf.transpose(weight) as tf.Tensor2D; // [in, out]
    let y = tf.matMul(xi, wT);
    if (bias !== null) y = tf.add(y, bias);
    save(wantWeightGrad ? [xi] : []);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dy2 = dy as tf.Tensor2D;
        const grads: tf.Tensor[] = [tf.matMul(dy2, weight)]; // [n, out] x [out, in]
        if (wantWeightGrad) grads.push(tf.matMul(tf.transpose(dy2) as tf.Tensor2D, saved[0] as tf.Tensor2D)); // [out, n] x [n, in]
        if (bias !== null && wantBiasGrad) grads.push(tf.sum(dy2, 0));
        return grads;
      },
    };
  });
  return f(...inputs) as tf.Tensor2D;
}

/**
 * The LoRA branch: y = ((x A^T) B^T) * scaling for x [n, in], A [r, in], B [out, r].
 * Gradients with plain 2-D matMuls and the intermediate h = x A^T saved from the forward:
 *   dB = s * dy^T h,  dh = s * dy B,  dA = dh^T x,  dx = dh A.
 * `wantA` / `wantB` say which of A and B get gradients (both unless frozen).
 */
export function loraDelta2d(
  x: tf.Tensor2D,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  scaling: number,
  wantA: boolean,
  wantB: boolean,
): tf.Tensor2D {
  const inputs: tf.Tensor[] = [x];
  if (wantA) inputs.push(a);
  if (wantB) inputs.push(b);
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xi = args[0] as tf.Tensor2D;
    const h = tf.matMul(xi, tf.transpose(a) as tf.Tensor2D); // [n, r]
    const y = tf.mul(tf.matMul(h, tf.transpose(b) as tf.Tensor2D), scaling); // [n, out]
    save([xi, h]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, hs] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dys = tf.mul(dy, scaling) as tf.Tensor2D; // [n, out]
        const dh = tf.matMul(dys, b); // [n, r]
        const grads: tf.Tensor[] = [tf.matMul(dh, a)]; // [n, in]
        if (wantA) grads.push(tf.matMul(tf.transpose(dh) as tf.Tensor2D, xs)); // [r, in]
        if (wantB) grads.push(tf.matMul(tf.transpose(dys) as tf.Tensor2D, hs)); // [out, r]
        return grads;
      },
    };
  });
  return f(...inputs) as tf.Tensor2D;
}

/**
 * Base linear and LoRA branch fused in one op (no dropout): y = x W^T (+ b) + s (x A^T) B^T.
 * Backward: dx = dy W + (s dy B) A; dA = (s dy B)^T x; dB = (s dy)^T h; dW = dy^T x; db = sum(dy).
 * One customGrad node instead of two plus an add: fewer kernels for small layers.
 * Gradients only for the tensors flagged wanted (frozen ones are closed over as constants).
 */
export function loraLinear2d(
  x: tf.Tensor2D,
  weight: tf.Tensor2D,
  bias: tf.Tensor1D | null,
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  scaling: number,
  want: { weight: boolean; bias: boolean; a: boolean; b: boolean },
): tf.Tensor2D {
  const inputs: tf.Tensor[] = [x];
  if (want.weight) inputs.push(weight);
  if (bias !== null && want.bias) inputs.push(bias);
  if (want.a) inputs.push(a);
  if (want.b) inputs.push(b);
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc;
    const xi = args[0] as tf.Tensor2D;
    const h = tf.matMul(xi, tf.transpose(a) as tf.Tensor2D); // [n, r]
    let y = tf.add(
      tf.matMul(xi, tf.transpose(weight) as tf.Tensor2D),
      tf.mul(tf.matMul(h, tf.transpose(b) as tf.Tensor2D), scaling),
    );
    if (bias !== null) y = tf.add(y, bias);
    save([xi, h]);
    return {
      value: y as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, hs] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dy2 = dy as tf.Tensor2D;
        const dys = tf.mul(dy2, scaling) as tf.Tensor2D;
        const dh = tf.matMul(dys, b); // [n, r]
        const grads: tf.Tensor[] = [tf.add(tf.matMul(dy2, weight), tf.matMul(dh, a))];
        if (want.weight) grads.push(tf.matMul(tf.transpose(dy2) as tf.Tensor2D, xs));
        if (bias !== null && want.bias) grads.push(tf.sum(dy2, 0));
        if (want.a) grads.push(tf.matMul(tf.transpose(dh) as tf.Tensor2D, xs));
        if (want.b) grads.push(tf.matMul(tf.transpose(dys) as tf.Tensor2D, hs));
        return grads;
      },
    };
  });
  return f(...inputs) as tf.Tensor2D;
}
