// Rotary position embedding exactly as transformers' GemmaRotaryEmbedding + apply_rotary_pos_emb
// (rotate_half convention: the two halves of head_dim are the (real, imaginary) pairs).
import * as tf from '@tensorflow/tfjs-core';
import { InputShapeError } from '../errors.js';

const f32 = Math.fround;

/**
 * transformers' default inv_freq in float32: 1 / theta^(arange(0, dim, 2) / dim), each step rounded
 * to float32 as torch computes it.
 */
export function ropeInvFreq(headDim: number, theta: number): Float32Array {
  if (headDim % 2 !== 0) throw new InputShapeError(`RoPE needs an even head_dim, got ${headDim}`);
  const out = new Float32Array(headDim / 2);
  for (let i = 0; i < headDim / 2; i++) {
    const e = f32((2 * i) / headDim);
    out[i] = f32(1 / f32(Math.pow(f32(theta), e)));
  }
  return out;
}

/** cos/sin tables [B, S, 1, D] for per-row positions (position_ids [B][S]). */
export interface RopeTables {
  cos: tf.Tensor4D;
  sin: tf.Tensor4D;
}

export function ropeTables(positions: ArrayLike<number>[], headDim: number, theta: number): RopeTables {
  const b = positions.length;
  const s = b === 0 ? 0 : positions[0]!.length;
  const inv = ropeInvFreq(headDim, theta);
  const half = headDim / 2;
  const cos = new Float32Array(b * s * headDim);
  const sin = new Float32Array(b * s * headDim);
  for (let bi = 0; bi < b; bi++) {
    const row = positions[bi]!;
    if (row.length !== s) throw new InputShapeError(`position ids rows differ in length (${row.length} vs ${s})`);
    for (let si = 0; si < s; si++) {
      const p = f32(row[si]!);
      const base = (bi * s + si) * headDim;
      for (let i = 0; i < half; i++) {
        const fr = f32(inv[i]! * p);
        const c = f32(Math.cos(fr));
        const sn = f32(Math.sin(fr));
        cos[base + i] = c;
        cos[base + half + i] = c;
        sin[base + i] = sn;
        sin[base + half + i] = sn;
      }
    }
  }
  return { cos: tf.tensor4d(cos, [b, s, 1, headDim]), sin: tf.tensor4d(sin, [b, s, 1, headDim]) };
}

/** rotate_half: cat(-x2, x1) over the last axis. */
export function rotateHalf(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const d = x.shape[x.rank - 1]!;
    const [x1, x2] = tf.split(x, [d / 2, d / 2], -1) as [tf.Tensor, tf.Tensor];
    return tf.concat([tf.neg(x2), x1], -1);
  });
}

/** rotateHalfMatrix's results, one per head_dim (never written to: tfjs treats tensor values as immutable). */
const rotateHalfMatrices = new Map<number, Float32Array>();

/**
 * rotate_half as a product with the signed permutation R [D, D] (x R = cat(-x2, x1)): every output is
 * one input times +-1 plus exact zeros, so the values are exactly rotate_half's; one GEMM instead of a
 * split, a negation and a concatenation (or a Reverse, which tfjs-wasm runs element by element).
 */
function rotateHalfMatrix(headDim: number): Float32Array {
  const known = rotateHalfMatrices.get(headDim);
  if (known !== undefined) return known;
  const half = headDim / 2;
  const r = new Float32Array(headDim * headDim);
  for (let i = 0; i < half; i++) {
    r[(half + i) * headDim + i] = -1; // out[i] = -x[half + i]
    r[i * headDim + half + i] = 1; // out[half + i] = x[i]
  }
  rotateHalfMatrices.set(headDim, r);
  return r;
}

/**
 * Applies RoPE to x [B, S, H*D] (heads packed in the last axis, as the q/k projections output
 * them) with tables [B, S, 1, D]: x * cos + rotate_half(x) * sin per head — the same float32 values
 * as with `rotateHalf`, with rotate_half as one matMul by a signed permutation (rotateHalfMatrix).
 * The gradient is written out (one op on the tape): dx = dy * cos + (dy * sin) R^T. The tables get
 * no gradient (constants).
 */
export function applyRope(x: tf.Tensor, tables: RopeTables, headDim: number): tf.Tensor {
  const [b, s, hd] = x.shape as [number, number, number];
  if (hd % headDim !== 0) throw new InputShapeError(`last axis ${hd} is not a multiple of head_dim ${headDim}`);
  if (headDim % 2 !== 0) throw new InputShapeError(`RoPE needs an even head_dim, got ${headDim}`);
  const shape4 = [b, s, hd / headDim, headDim];
  const rows: [number, number] = [b * s * (hd / headDim), headDim];
  const r = rotateHalfMatrix(headDim);
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args[1] as tf.GradSaveFunc;
    const xi = args[0] as tf.Tensor;
    const rot = tf.tensor2d(r, [headDim, headDim]);
    const x4 = tf.reshape(xi, shape4);
    const rotated = tf.reshape(tf.matMul(tf.reshape(xi, rows) as tf.Tensor2D, rot), shape4);
    const y = tf.add(tf.mul(x4, tables.cos), tf.mul(rotated, tables.sin));
    // the tape keeps saved tensors alive until the backward (the caller may dispose the tables first)
    save([tables.cos, tables.sin, rot]);
    return {
      value: tf.reshape(y, [b, s, hd]),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [cos, sin, rotS] = saved as [tf.Tensor, tf.Tensor, tf.Tensor2D];
        const dy4 = tf.reshape(dy, shape4);
        const back = tf.matMul(tf.reshape(tf.mul(dy4, sin), rows) as tf.Tensor2D, rotS, false, true);
        const dx = tf.add(tf.mul(dy4, cos), tf.reshape(back, shape4));
        return [tf.reshape(dx, [b, s, hd])];
      },
    };
  });
  return tf.tidy(() => f(x));
}
