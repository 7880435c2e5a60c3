// Attention masks: boolean [B][Sq][Sk] "may attend" tables, built in plain JS exactly as openpi /
// big_vision and transformers build them, and their additive float form.
import * as tf from '@tensorflow/tfjs-core';
import { InputShapeError } from '../errors.js';

/** The value openpi adds where attention is not allowed (pi0_pytorch `_prepare_attention_masks_4d`). */
export const MASK_NEG = -2.3819763e38;

/** A boolean attention table: allowed[b][i * sk + j] says whether query i of row b may attend key j. */
export interface BoolMask2d {
  batch: number;
  sq: number;
  sk: number;
  /** Row-major [batch, sq, sk], 1 = allowed. */
  allowed: Uint8Array;
}

function checkRows(rows: ArrayLike<number | boolean>[], what: string): number {
  const n = rows[0]?.length ?? 0;
  for (const r of rows)
    if (r.length !== n) throw new InputShapeError(`${what}: rows differ in length (${r.length} vs ${n})`);
  return n;
}

/**
 * openpi's make_att_2d_masks (from big_vision): with cumsum = cumulative sum of the ar flags over the
 * sequence, token i may attend token j iff cumsum[j] <= cumsum[i], and both are real (not padding).
 * ar = [1 1 1 1]: causal; [0 0 0 1 1 1]: prefix-LM; [1 0 1 0 0]: causal between blocks.
 */
export function makeAtt2dMasks(
  padMasks: ArrayLike<number | boolean>[],
  arMasks: ArrayLike<number | boolean>[],
): BoolMask2d {
  if (padMasks.length !== arMasks.length)
    throw new InputShapeError(`pad (${padMasks.length} rows) and ar (${arMasks.length} rows) masks differ in batch`);
  const s = checkRows(padMasks, 'pad mask');
  if (checkRows(arMasks, 'ar mask') !== s) throw new InputShapeError('pad and ar masks differ in sequence length');
  const batch = padMasks.length;
  const allowed = new Uint8Array(batch * s * s);
  const cum = new Int32Array(s);
  for (let b = 0; b < batch; b++) {
    const ar = arMasks[b]!;
    const pad = padMasks[b]!;
    let c = 0;
    for (let i = 0; i < s; i++) {
      c += Number(ar[i]);
      cum[i] = c;
    }
    for (let i = 0; i < s; i++) {
      for (let j = 0; j < s; j++) {
        allowed[(b * s + i) * s + j] = cum[j]! <= cum[i]! && pad[i] && pad[j] ? 1 : 0;
      }
    }
  }
  return { batch, sq: s, sk: s, allowed };
}

/** A causal mask (query i sees keys 0..i) with optional key padding (keyPad[b][j] = 0 hides key j). */
export function causalMask(batch: number, seq: number, keyPad?: ArrayLike<number | boolean>[]): BoolMask2d {
  const allowed = new Uint8Array(batch * seq * seq);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < seq; i++) {
      for (let j = 0; j <= i; j++) {
        allowed[(b * seq + i) * seq + j] = keyPad === undefined || keyPad[b]![j] ? 1 : 0;
      }
    }
  }
  return { batch, sq: seq, sk: seq, allowed };
}

/** Concatenates masks along the key axis (e.g. [prefix keys | suffix keys]). */
export function concatKeys(a: BoolMask2d, b: BoolMask2d): BoolMask2d {
  if (a.batch !== b.batch || a.sq !== b.sq)
    throw new InputShapeError(`cannot concatenate masks [${a.batch},${a.sq},*] and [${b.batch},${b.sq},*]`);
  const sk = a.sk + b.sk;
  const allowed = new Uint8Array(a.batch * a.sq * sk);
  for (let r = 0; r < a.batch * a.sq; r++) {
    allowed.set(a.allowed.subarray(r * a.sk, (r + 1) * a.sk), r * sk);
    allowed.set(b.allowed.subarray(r * b.sk, (r + 1) * b.sk), r * sk + a.sk);
  }
  return { batch: a.batch, sq: a.sq, sk, allowed };
}

/** The additive float form [B, Sq, Sk]: 0 where allowed, MASK_NEG where not. */
export function additiveMask(m: BoolMask2d, negative = MASK_NEG): tf.Tensor3D {
  const data = new Float32Array(m.allowed.length);
  for (let i = 0; i < data.length; i++) data[i] = m.allowed[i] ? 0 : negative;
  return tf.tensor3d(data, [m.batch, m.sq, m.sk]);
}

/** Position ids as openpi computes them: cumsum(pad_mask) - 1 per row (plus an offset per row). */
export function positionsFromPadding(
  padMasks: ArrayLike<number | boolean>[],
  offsets?: ArrayLike<number>,
): Int32Array[] {
  return padMasks.map((row, b) => {
    const out = new Int32Array(row.length);
    let c = offsets === undefined ? 0 : offsets[b]!;
    for (let i = 0; i < row.length; i++) {
      c += Number(row[i]);
      out[i] = c - 1;
    }
    return out;
  });
}
