import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { FAST_MATMUL_FLAG } from '@vla-lora/lora-core';
import { maxAbsDiff, setupBackend } from '../test-support.js';
import { groupedQueryAttention } from './attention.js';
import { additiveMask, causalMask, makeAtt2dMasks } from './masks.js';

/** Naive reference with tfjs's own ops (batched, transposed matMuls; tfjs autograd). */
function reference(
  q: tf.Tensor,
  k: tf.Tensor,
  v: tf.Tensor,
  mask: tf.Tensor | null,
  H: number,
  KV: number,
  D: number,
  scale: number,
): tf.Tensor {
  const [B, Sq] = q.shape as [number, number];
  const Sk = k.shape[1]!;
  const qh = tf.transpose(tf.reshape(q, [B, Sq, H, D]), [0, 2, 1, 3]); // [B, H, Sq, D]
  const rep = (x: tf.Tensor): tf.Tensor => {
    const xh = tf.transpose(tf.reshape(x, [B, Sk, KV, D]), [0, 2, 1, 3]); // [B, KV, Sk, D]
    const e = tf.expandDims(xh, 2);
    return tf.reshape(
      tf.concat(
        Array.from({ length: H / KV }, () => e),
        2,
      ),
      [B, H, Sk, D],
    ); // repeat_kv
  };
  let s = tf.mul(tf.matMul(qh, rep(k), false, true), scale);
  if (mask !== null) s = tf.add(s, tf.expandDims(mask, 1));
  const o = tf.matMul(tf.softmax(s), rep(v)); // [B, H, Sq, D]
  return tf.reshape(tf.transpose(o, [0, 2, 1, 3]), [B, Sq, H * D]);
}

describe('groupedQueryAttention', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  const cases = [
    { name: 'GQA 4 heads / 2 kv, causal', B: 2, Sq: 5, Sk: 5, H: 4, KV: 2, D: 8, mask: 'causal' as const },
    {
      name: 'MQA 4 heads / 1 kv, prefix+suffix blocks with padding',
      B: 3,
      Sq: 7,
      Sk: 7,
      H: 4,
      KV: 1,
      D: 4,
      mask: 'blocks' as const,
    },
    { name: 'MHA, no mask, cross lengths', B: 2, Sq: 3, Sk: 6, H: 2, KV: 2, D: 4, mask: 'none' as const },
  ];
  for (const c of cases) {
    // 'batched' runs with transpose flags where the backend has a BLAS (fastMatMul), 'batched, copies'
    // forces the explicit-transpose form every other backend uses
    for (const variant of ['loop', 'batched', 'batched, copies'] as const) {
      const path = variant === 'loop' ? 'loop' : 'batched';
      it(`${c.name} (${variant}): forward and q/k/v gradients equal the naive tfjs computation`, async () => {
        const flags = tf.env().getFlags()[FAST_MATMUL_FLAG];
        tf.env().registerFlag(FAST_MATMUL_FLAG, () => '');
        if (variant === 'batched, copies') tf.env().set(FAST_MATMUL_FLAG, '');
        const q = tf.randomNormal([c.B, c.Sq, c.H * c.D], 0, 1, 'float32', 1);
        const k = tf.randomNormal([c.B, c.Sk, c.KV * c.D], 0, 1, 'float32', 2);
        const v = tf.randomNormal([c.B, c.Sk, c.KV * c.D], 0, 1, 'float32', 3);
        const w = tf.randomNormal([c.B, c.Sq, c.H * c.D], 0, 1, 'float32', 4); // a random cotangent
        let mask: tf.Tensor | null = null;
        if (c.mask === 'causal') mask = additiveMask(causalMask(c.B, c.Sq));
        if (c.mask === 'blocks') {
          const pad = [
            [1, 1, 1, 1, 1, 1, 1],
            [1, 1, 0, 1, 1, 1, 1],
            [1, 1, 1, 0, 1, 1, 1],
          ];
          mask = additiveMask(
            makeAtt2dMasks(
              pad,
              Array.from({ length: 3 }, () => [0, 0, 0, 0, 1, 1, 0]),
            ),
          );
        }
        const dims = { numHeads: c.H, numKvHeads: c.KV, headDim: c.D, scale: 1 / Math.sqrt(c.D) };
        const ours = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
          tf.sum(tf.mul(groupedQueryAttention(a, b, d, mask, dims, path), w)),
        );
        const ref = tf.grads((a: tf.Tensor, b: tf.Tensor, d: tf.Tensor) =>
          tf.sum(tf.mul(reference(a, b, d, mask, c.H, c.KV, c.D, dims.scale), w)),
        );
        expect(
          maxAbsDiff(
            await groupedQueryAttention(q, k, v, mask, dims, path).data(),
            await reference(q, k, v, mask, c.H, c.KV, c.D, dims.scale).data(),
          ),
        ).toBeLessThan(1e-5);
        const g1 = ours([q, k, v]);
        const g2 = ref([q, k, v]);
        for (let i = 0; i < 3; i++) expect(maxAbsDiff(await g1[i]!.data(), await g2[i]!.data())).toBeLessThan(1e-4);
        tf.env().set(FAST_MATMUL_FLAG, flags ?? '');
      });
    }
  }

  it('masked keys get exactly zero weight', async () => {
    // One query, three keys, the middle one masked: output is the softmax mix of keys 0 and 2 only.
    const q = tf.tensor3d([[[1, 0]]]);
    const k = tf.tensor3d([
      [
        [1, 0],
        [5, 5],
        [0, 1],
      ],
    ]);
    const v = tf.tensor3d([
      [
        [1, 0],
        [100, 100],
        [0, 1],
      ],
    ]);
    const mask = additiveMask({ batch: 1, sq: 1, sk: 3, allowed: Uint8Array.from([1, 0, 1]) });
    const o = await groupedQueryAttention(q, k, v, mask, { numHeads: 1, numKvHeads: 1, headDim: 2, scale: 1 }).data();
    const e = Math.E;
    expect(o[0]).toBeCloseTo(e / (e + 1), 6);
    expect(o[1]).toBeCloseTo(1 / (e + 1), 6);
  });
});
