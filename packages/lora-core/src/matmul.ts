// Linear algebra for the LoRA linear and attention, forward AND backward, in the form the active
// backend's matMul runs fastest.
//
// tfjs-backend-wasm's own BatchMatMul runs `transposeA` / `transposeB` and batched products 10-60x
// slower than a plain 2-D matMul (docs/performance-notes.md), and tfjs's matMul gradient uses exactly
// those. So by default every product here is a rank-2 `tf.matMul(a, b)` with no transpose flags, and
// transposes are explicit `tf.transpose` copies, arranged so that only small operands (LoRA's rank-r
// sides) are copied where the algebra allows it.
//
// A backend whose BatchMatMul takes the flags for free (a BLAS sgemm: the transpose is an argument,
// not a copy) announces it through the tf.env() flag FAST_MATMUL_FLAG (see `fastMatMul`); then the
// same products pass the flags and no operand is copied at all.
import * as tf from '@tensorflow/tfjs-core';

/**
 * tf.env() flag holding the name of the backend (`tf.getBackend()`) whose BatchMatMul runs
 * transposed and batched products at the speed of a plain 2-D product — set by whoever installs such
 * a kernel (`@vla-lora/tfjs-backend` with its BLAS kernels):
 * `tf.env().registerFlag(FAST_MATMUL_FLAG, () => ''); tf.env().set(FAST_MATMUL_FLAG, 'wasm')`.
 * Unset, or another backend's name: explicit transposes (the default path).
 */
export const FAST_MATMUL_FLAG = 'VLA_FAST_MATMUL_BACKEND';

/** Whether the active backend runs transposed / batched matMuls as fast as plain 2-D ones (see FAST_MATMUL_FLAG). */
export function fastMatMul(): boolean {
  const v = tf.env().getFlags()[FAST_MATMUL_FLAG];
  return typeof v === 'string' && v !== '' && v === tf.getBackend();
}

/**
 * a · b with optional transposes of either operand (the last two axes): the flags themselves when
 * the backend runs them fast (`fastMatMul()`), explicit `tf.transpose` copies otherwise.
 */
export function matMulT<T extends tf.Tensor>(a: T, b: tf.Tensor, transposeA = false, transposeB = false): T {
  if ((!transposeA && !transposeB) || fastMatMul()) return tf.matMul(a, b, transposeA, transposeB) as T;
  return tf.matMul(transposeA ? swapLast(a) : a, transposeB ? swapLast(b) : b) as T;
}

/** The transpose of the last two axes (an explicit copy). */
export function swapLast<T extends tf.Tensor>(x: T): T {
  if (x.rank === 2) return tf.transpose(x) as T;
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 2] = x.rank - 1;
  perm[x.rank - 1] = x.rank - 2;
  return tf.transpose(x, perm) as T;
}

/**
 * big^T · small for big [n, m] and a narrow small [n, r] (r << m), as [m, r] (LoRA's dB = dy^T hs):
 * always the transposeA flag. On tfjs-wasm's own kernel that runs at about half the time of either
 * explicit form — transpose(big) · small copies [n, m], and (small^T · big)^T makes XNNPACK pack the
 * fresh [n, m] operand (measured on [1024, 2048] with r = 8: 15 ms against 30-32 ms, fresh operands).
 */
function bigTSmall(big: tf.Tensor2D, small: tf.Tensor2D): tf.Tensor2D {
  return tf.matMul(big, small, true, false);
}

/** t * scaling, or t itself when the scaling is 1 (openpi's LoRA: alpha = r) — one kernel less, same values. */
function scaled<T extends tf.Tensor>(t: T, scaling: number): T {
  return scaling === 1 ? t : (tf.mul(t, scaling) as T);
}

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
 * Gradients: dx = dy W, dW = dy^T x, db = sum_rows(dy), all 2-D matMuls (see matMulT).
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
    let y = matMulT(xi, weight, false, true); // [n, in] x [in, out]
    if (bias !== null) y = tf.add(y, bias);
    save(wantWeightGrad ? [xi] : []);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const dy2 = dy as tf.Tensor2D;
        const grads: tf.Tensor[] = [tf.matMul(dy2, weight)]; // [n, out] x [out, in]
        if (wantWeightGrad) grads.push(matMulT(dy2, saved[0] as tf.Tensor2D, true, false)); // [out, n] x [n, in]
        if (bias !== null && wantBiasGrad) grads.push(tf.sum(dy2, 0));
        return grads;
      },
    };
  });
  return f(...inputs) as tf.Tensor2D;
}

/**
 * The LoRA branch: y = ((x A^T) B^T) * scaling for x [n, in], A [r, in], B [out, r].
 * The scaling multiplies the rank-r intermediate, hs = (x A^T) * scaling (PEFT multiplies the
 * [n, out] output; the product is the same up to float32 rounding, exact when scaling is a power
 * of two), so no [n, out]-sized multiply runs forward or backward. Gradients, with hs saved:
 *   dB = dy^T hs,  dh = (dy B) * scaling,  dA = dh^T x,  dx = dh A.
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
    const hs = scaled(matMulT(xi, a, false, true), scaling); // [n, r]
    const y = matMulT(hs, b, false, true); // [n, out]
    save([xi, hs]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, hss] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dy2 = dy as tf.Tensor2D;
        const dh = scaled(tf.matMul(dy2, b), scaling); // [n, r]
        const grads: tf.Tensor[] = [tf.matMul(dh, a)]; // [n, in]
        if (wantA) grads.push(matMulT(dh, xs, true, false)); // [r, in]
        if (wantB) grads.push(bigTSmall(dy2, hss)); // [out, r]
        return grads;
      },
    };
  });
  return f(...inputs) as tf.Tensor2D;
}

/**
 * Base linear and LoRA branch fused in one op (no dropout): y = x W^T (+ b) + ((x A^T) * s) B^T.
 * Backward: dx = dy W + dh A with dh = (dy B) * s; dA = dh^T x; dB = dy^T hs; dW = dy^T x; db = sum(dy).
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
    const hs = scaled(matMulT(xi, a, false, true), scaling); // [n, r]
    let y = tf.add(matMulT(xi, weight, false, true), matMulT(hs, b, false, true));
    if (bias !== null) y = tf.add(y, bias);
    save([xi, hs]);
    return {
      value: y as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, hss] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dy2 = dy as tf.Tensor2D;
        const dh = scaled(tf.matMul(dy2, b), scaling); // [n, r]
        const grads: tf.Tensor[] = [tf.add(tf.matMul(dy2, weight), tf.matMul(dh, a))];
        if (want.weight) grads.push(matMulT(dy2, xs, true, false));
        if (bias !== null && want.bias) grads.push(tf.sum(dy2, 0));
        if (want.a) grads.push(matMulT(dh, xs, true, false));
        if (want.b) grads.push(bigTSmall(dy2, hss));
        return grads;
      },
    };
  });
  return f(...inputs) as tf.Tensor2D;
}
