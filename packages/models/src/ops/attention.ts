// Grouped-query scaled dot-product attention with plain 2-D matMuls only, forward and backward.
//
// tfjs-wasm's batched and transposed matMuls (what tf.matMul's own gradient uses) run 10-60x below
// its plain 2-D matMul (docs/performance-notes.md). Here every product is a rank-2 tf.matMul with no
// transpose flags: for each (batch row, kv head) the G query heads that share that kv head are
// stacked into one [G*Sq, D] operand, so one matMul scores all of them against the shared keys;
// transposes are explicit tf.transpose copies. On a backend whose matMul takes transposes and batches
// for free (a BLAS; lora-core's fastMatMul) every product is one batched matMul with transpose flags. (Exception: when every block is tiny, e.g. SigLIP
// heads over 16 patches, per-op overhead dominates and one untransposed batched matMul is faster;
// see BATCHED_MAX_FLOPS.) The backward is written out (tf.customGrad):
//   dP = dO V^T,  dS = P * (dP - rowsum(dP * P)) * scale,  dQ = dS K,  dK = dS^T Q,  dV = P^T dO.
// Numerics follow transformers' eager_attention_forward: (Q K^T) * scale + mask, softmax in float32,
// then P V; head h reads kv head floor(h / G) (repeat_kv).
import * as tf from '@tensorflow/tfjs-core';
import { fastMatMul, matMulT } from '@vla-lora/lora-core';
import { InputShapeError } from '../errors.js';

/** Blocks below this many flops use one batched matMul instead of a loop of 2-D ones. */
export const BATCHED_MAX_FLOPS = 65_536;

export interface AttentionDims {
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  /** Multiplies Q K^T (transformers: head_dim^-0.5, or query_pre_attn_scalar^-0.5). */
  scale: number;
}

/**
 * softmax((Q K^T) * scale + mask) V for q [B, Sq, H*D], k/v [B, Sk, KV*D] (heads packed in the last
 * axis, as the projections output them) and an additive mask [B, Sq, Sk] (0 where allowed, a large
 * negative number where not; see masks.ts) or null. Returns [B, Sq, H*D].
 */
export function groupedQueryAttention(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask: tf.Tensor | null,
  dims: AttentionDims,
  path: 'auto' | 'loop' | 'batched' = 'auto',
): tf.Tensor3D {
  const { numHeads: H, numKvHeads: KV, headDim: D, scale } = dims;
  if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3) {
    throw new InputShapeError(`attention wants rank-3 q/k/v, got [${q.shape}], [${k.shape}], [${v.shape}]`);
  }
  const [B, Sq] = q.shape as [number, number, number];
  const Sk = k.shape[1]!;
  if (H % KV !== 0) throw new InputShapeError(`num_heads ${H} is not a multiple of num_kv_heads ${KV}`);
  if (q.shape[2] !== H * D) throw new InputShapeError(`q last axis ${q.shape[2]} != num_heads*head_dim ${H * D}`);
  if (k.shape[0] !== B || v.shape[0] !== B || k.shape[2] !== KV * D || v.shape[2] !== KV * D || v.shape[1] !== Sk) {
    throw new InputShapeError(
      `k/v shapes [${k.shape}], [${v.shape}] do not fit q [${q.shape}] with ${KV} kv heads of ${D}`,
    );
  }
  if (mask !== null && (mask.rank !== 3 || mask.shape[0] !== B || mask.shape[1] !== Sq || mask.shape[2] !== Sk)) {
    throw new InputShapeError(`attention mask [${mask.shape}] must be [${B}, ${Sq}, ${Sk}]`);
  }
  const G = H / KV;
  const n = B * KV;
  // Per (batch row, kv head) block: 2*G*Sq*Sk*D flops. Below BATCHED_MAX_FLOPS per block the n
  // separate 2-D matMuls cost more in per-op overhead than one batched matMul (measured on wasm:
  // 96 blocks of 16x16x16 run 2.5x faster batched; 8 blocks of 300x16x75 run 7x faster as 2-D).
  // A backend whose matMul takes transposes and batches for free (a BLAS: fastMatMul) always runs the
  // batched path, with transpose flags instead of copies.
  const fast = fastMatMul();
  const batched =
    path === 'batched' || (path === 'auto' && (fast || (n > 1 && 2 * G * Sq * Sk * D < BATCHED_MAX_FLOPS)));

  // [B, S, KV*G*D] -> [B*KV, G*S, D]
  const headsFirst = (x: tf.Tensor, s: number): tf.Tensor3D =>
    tf.reshape(tf.transpose(tf.reshape(x, [B, s, KV, G, D]), [0, 2, 3, 1, 4]), [n, G * s, D]);
  // inverse of headsFirst
  const headsLast = (x: tf.Tensor, s: number): tf.Tensor3D =>
    tf.reshape(tf.transpose(tf.reshape(x, [B, KV, G, s, D]), [0, 3, 1, 2, 4]), [B, s, H * D]);
  // [B, Sk, KV*D] -> [B*KV, Sk, D] and back
  const kvFirst = (x: tf.Tensor): tf.Tensor3D =>
    tf.reshape(tf.transpose(tf.reshape(x, [B, Sk, KV, D]), [0, 2, 1, 3]), [n, Sk, D]);
  const kvLast = (x: tf.Tensor): tf.Tensor3D =>
    tf.reshape(tf.transpose(tf.reshape(x, [B, KV, Sk, D]), [0, 2, 1, 3]), [B, Sk, KV * D]);
  const unstack = (x: tf.Tensor): tf.Tensor2D[] =>
    (n === 1 ? [tf.reshape<tf.Rank>(x, x.shape.slice(1))] : tf.unstack(x)) as tf.Tensor2D[];
  const stack = (xs: tf.Tensor[]): tf.Tensor3D =>
    (xs.length === 1 ? tf.expandDims(xs[0]!, 0) : tf.stack(xs)) as tf.Tensor3D;

  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [qi, ki, vi] = args as [tf.Tensor, tf.Tensor, tf.Tensor];
    const save = args[3] as tf.GradSaveFunc;
    const qh = headsFirst(qi, Sq);
    const kh = kvFirst(ki);
    const vh = kvFirst(vi);
    let pAll: tf.Tensor3D;
    let oAll: tf.Tensor3D;
    if (batched) {
      // Tiny blocks: one batched (untransposed) matMul beats n tiny 2-D ones (per-op overhead).
      let s: tf.Tensor = tf.mul(matMulT(qh, kh, false, true), scale); // [n, G*Sq, Sk]
      if (mask !== null)
        s = tf.reshape(tf.add(tf.reshape(s, [B, KV, G, Sq, Sk]), tf.reshape(mask, [B, 1, 1, Sq, Sk])), [n, G * Sq, Sk]);
      pAll = tf.softmax(s) as tf.Tensor3D;
      oAll = tf.matMul(pAll, vh);
    } else {
      const qs = unstack(qh);
      const kTs = unstack(tf.transpose(kh, [0, 2, 1])); // [n, D, Sk], an explicit copy
      const vs = unstack(vh);
      const masks = mask === null ? null : B === 1 ? [tf.reshape(mask, [Sq, Sk])] : tf.unstack(mask);
      const ps: tf.Tensor2D[] = [];
      const os: tf.Tensor2D[] = [];
      for (let i = 0; i < n; i++) {
        let s: tf.Tensor = tf.mul(tf.matMul(qs[i]!, kTs[i]!), scale); // [G*Sq, Sk]
        if (masks !== null)
          s = tf.reshape(tf.add(tf.reshape(s, [G, Sq, Sk]), masks[Math.floor(i / KV)]!), [G * Sq, Sk]);
        const p = tf.softmax(s) as tf.Tensor2D;
        ps.push(p);
        os.push(tf.matMul(p, vs[i]!));
      }
      pAll = stack(ps);
      oAll = stack(os);
    }
    save([qh, kh, vh, pAll]);
    return {
      value: headsLast(oAll, Sq),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        if (batched) {
          const [q3, k3, v3, p3] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
          const dO = headsFirst(dy, Sq);
          const dP = matMulT(dO, v3, false, true);
          const dS = tf.mul(tf.mul(p3, tf.sub(dP, tf.sum(tf.mul(dP, p3), -1, true))), scale) as tf.Tensor3D;
          const dq = tf.matMul(dS, k3);
          const dk = matMulT(dS, q3, true, false);
          const dv = matMulT(p3, dO, true, false);
          return [headsLast(dq, Sq), kvLast(dk), kvLast(dv)];
        }
        const [qs2, ks2, vs2, pAll2] = saved.map(unstack) as [
          tf.Tensor2D[],
          tf.Tensor2D[],
          tf.Tensor2D[],
          tf.Tensor2D[],
        ];
        const dos = unstack(headsFirst(dy, Sq));
        const dqs: tf.Tensor2D[] = [];
        const dks: tf.Tensor2D[] = [];
        const dvs: tf.Tensor2D[] = [];
        for (let i = 0; i < n; i++) {
          const p = pAll2[i]!;
          const dO = dos[i]!;
          const dP = tf.matMul(dO, tf.transpose(vs2[i]!) as tf.Tensor2D); // [G*Sq, Sk]
          const rowDot = tf.sum(tf.mul(dP, p), -1, true);
          const dS = tf.mul(tf.mul(p, tf.sub(dP, rowDot)), scale) as tf.Tensor2D;
          dqs.push(tf.matMul(dS, ks2[i]!)); // [G*Sq, D]
          dks.push(tf.matMul(tf.transpose(dS) as tf.Tensor2D, qs2[i]!)); // [Sk, D]
          dvs.push(tf.matMul(tf.transpose(p) as tf.Tensor2D, dO)); // [Sk, D]
        }
        return [headsLast(stack(dqs), Sq), kvLast(stack(dks)), kvLast(stack(dvs))];
      },
    };
  });
  return f(q, k, v) as tf.Tensor3D;
}
