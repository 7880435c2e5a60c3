import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, setupBackend } from '../test-support.js';
import { applyRope, ropeTables, rotateHalf } from './rope.js';

describe('applyRope', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  it('equals x * cos + rotate_half(x) * sin per head, forward and gradient, to the last bit', async () => {
    const [B, S, H, D] = [2, 5, 3, 8];
    const positions = [Int32Array.from([0, 1, 2, 3, 4]), Int32Array.from([3, 4, 5, 9, 10])];
    const tables = ropeTables(positions, D, 10000);
    const x = tf.randomNormal([B, S, H * D], 0, 1, 'float32', 1);
    const w = tf.randomNormal([B, S, H * D], 0, 1, 'float32', 2); // a random cotangent
    const naive = (t: tf.Tensor): tf.Tensor => {
      const t4 = tf.reshape(t, [B, S, H, D]);
      return tf.reshape(tf.add(tf.mul(t4, tables.cos), tf.mul(rotateHalf(t4), tables.sin)), [B, S, H * D]);
    };
    expect(maxAbsDiff(await applyRope(x, tables, D).data(), await naive(x).data())).toBe(0);
    const ours = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(applyRope(t, tables, D), w)))(x);
    const ref = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(naive(t), w)))(x);
    expect(maxAbsDiff(await ours.data(), await ref.data())).toBe(0);
    expect(() => applyRope(tf.zeros([1, 2, 10]), tables, D)).toThrow(/multiple of head_dim/);
  });
});
