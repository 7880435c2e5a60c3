// torch.nn.utils.clip_grad_norm_ (norm_type 2): total = ||(||g_1||, ..., ||g_n||)||_2,
// coef = max_norm / (total + 1e-6) clamped to 1, every gradient scaled by coef.
import * as tf from '@tensorflow/tfjs-core';
import { NonFiniteGradNormError, OptimizerConfigError } from './errors.js';

export interface ClipResult {
  /** The clipped gradients. When no scaling happens (coef = 1) these are the SAME tensors as the input. */
  grads: Map<string, tf.Tensor>;
  /** The total L2 norm before clipping (torch's return value). */
  totalNorm: number;
  /** The factor applied (1 when not clipped). */
  coef: number;
}

/** The global L2 norm of all gradients (per-tensor norms in float32, combined in float64); read asynchronously. */
export async function globalGradNorm(grads: Map<string, tf.Tensor> | Iterable<tf.Tensor>): Promise<number> {
  const list = grads instanceof Map ? [...grads.values()] : [...grads];
  if (list.length === 0) return 0;
  const sq = tf.tidy(() =>
    tf.stack(list.map((g) => tf.sum(tf.square(g.dtype === 'float32' ? g : tf.cast(g, 'float32'))))),
  );
  const parts = await sq.data();
  sq.dispose();
  let s = 0;
  for (const v of parts) s += v;
  return Math.sqrt(s);
}

/**
 * Clips gradients by their global L2 norm, as torch.nn.utils.clip_grad_norm_(max_norm) and
 * optax.clip_by_global_norm (openpi) do. New tensors are returned when scaled; inputs are never
 * disposed. `errorIfNonfinite` throws on a NaN/Inf norm (torch's error_if_nonfinite); otherwise the
 * non-finite norm is returned and the gradients are scaled by the resulting NaN like torch does.
 */
export async function clipGradNorm(
  grads: Map<string, tf.Tensor>,
  maxNorm: number,
  opts: { errorIfNonfinite?: boolean } = {},
): Promise<ClipResult> {
  if (!(maxNorm > 0))
    throw new OptimizerConfigError(
      `clipGradNorm: max_norm must be > 0, got ${maxNorm}; pass Infinity to measure without clipping`,
    );
  const totalNorm = await globalGradNorm(grads);
  if (!Number.isFinite(totalNorm) && opts.errorIfNonfinite) {
    throw new NonFiniteGradNormError(
      `the total gradient norm is ${totalNorm}; a gradient holds NaN/Inf — lower the learning rate or check the loss and the data`,
    );
  }
  const coef = Math.min(maxNorm / (totalNorm + 1e-6), 1);
  if (coef === 1) return { grads, totalNorm, coef };
  const out = new Map<string, tf.Tensor>();
  for (const [n, g] of grads) out.set(n, tf.mul(g, coef));
  return { grads: out, totalNorm, coef };
}
