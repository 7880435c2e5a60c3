import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../test/backend.js';
import { FAST_MATMUL_FLAG, fastMatMul, linear2d, loraDelta2d, loraLinear2d, matMulT } from './matmul.js';
import { lcgFloats } from '@vla-lora/seeded-random/test-support';

beforeAll(async () => {
  await useBackend('wasm');
  tf.env().registerFlag(FAST_MATMUL_FLAG, () => '');
});
afterEach(() => tf.env().set(FAST_MATMUL_FLAG, ''));

const rand = (shape: number[], seed: number): tf.Tensor =>
  tf.tensor(
    lcgFloats(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
  );
function maxAbs(a: tf.Tensor, b: tf.Tensor): number {
  expect(a.shape).toEqual(b.shape);
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]!);
}

/** Value and gradients (x, W, b, A, B) of sum(f(...) * cot) for our ops and for tfjs's own autodiff. */
function both(path: 'explicit' | 'flags', s: number): tf.Tensor[] {
  tf.env().set(FAST_MATMUL_FLAG, path === 'flags' ? tf.getBackend() : '');
  expect(fastMatMul()).toBe(path === 'flags');
  const [x, w, bias, a, b, cot] = [
    rand([6, 9], 1),
    rand([5, 9], 2),
    rand([5], 3),
    rand([3, 9], 4),
    rand([5, 3], 5),
    rand([6, 5], 6),
  ];
  const want = { weight: true, bias: true, a: true, b: true };
  const fused = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor, b2: tf.Tensor) =>
    tf.sum(
      tf.mul(
        loraLinear2d(
          xx as tf.Tensor2D,
          ww as tf.Tensor2D,
          bb as tf.Tensor1D,
          aa as tf.Tensor2D,
          b2 as tf.Tensor2D,
          s,
          want,
        ),
        cot,
      ),
    ),
  )([x, w, bias, a, b]);
  const split = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor, b2: tf.Tensor) =>
    tf.sum(
      tf.mul(
        tf.add(
          linear2d(xx as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D, true, true),
          loraDelta2d(xx as tf.Tensor2D, aa as tf.Tensor2D, b2 as tf.Tensor2D, s, true, true),
        ),
        cot,
      ),
    ),
  )([x, w, bias, a, b]);
  const naive = tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor, aa: tf.Tensor, b2: tf.Tensor) => {
    const base = tf.add(tf.matMul(xx, ww, false, true), bb);
    const d = tf.mul(tf.matMul(tf.matMul(xx, aa, false, true), b2, false, true), s);
    return tf.sum(tf.mul(tf.add(base, d), cot));
  })([x, w, bias, a, b]);
  const value = loraLinear2d(
    x as tf.Tensor2D,
    w as tf.Tensor2D,
    bias as tf.Tensor1D,
    a as tf.Tensor2D,
    b as tf.Tensor2D,
    s,
    want,
  );
  const naiveValue = tf.add(
    tf.add(tf.matMul(x, w, false, true), bias),
    tf.mul(tf.matMul(tf.matMul(x, a, false, true), b, false, true), s),
  );
  for (let i = 0; i < 5; i++) {
    expect(maxAbs(fused[i]!, naive[i]!)).toBeLessThan(1e-5);
    expect(maxAbs(split[i]!, naive[i]!)).toBeLessThan(1e-5);
  }
  expect(maxAbs(value, naiveValue)).toBeLessThan(1e-5);
  return [value, ...fused];
}

describe('matMul paths', () => {
  it('the LoRA linear and its gradients agree with autodiff with explicit transposes and with transpose flags', () => {
    // 5/3 is not a power of two (the rank-r placement of the scaling is exercised); 1 skips the multiply
    for (const s of [5 / 3, 1]) {
      const explicit = both('explicit', s);
      const flags = both('flags', s);
      explicit.forEach((t, i) => expect(maxAbs(t, flags[i]!)).toBeLessThan(1e-5));
    }
  });

  it('matMulT transposes either operand (rank 2 and 3) on both paths; the flag names one backend', () => {
    const a = rand([2, 4, 3], 7);
    const b = rand([2, 5, 3], 8);
    const ref = tf.matMul(a, b, false, true);
    for (const on of ['', tf.getBackend()]) {
      tf.env().set(FAST_MATMUL_FLAG, on);
      expect(maxAbs(matMulT(a, b, false, true), ref)).toBeLessThan(1e-6);
      expect(maxAbs(matMulT(tf.transpose(a, [0, 2, 1]), b, true, true), ref)).toBeLessThan(1e-6);
    }
    tf.env().set(FAST_MATMUL_FLAG, 'some-other-backend');
    expect(fastMatMul()).toBe(false);
  });
});
