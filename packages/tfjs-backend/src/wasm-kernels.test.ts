import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './index.js';

describe('wasm Identity shares buffers', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('clone() adds no buffer, and either tensor survives the other being disposed', () => {
    const a = tf.tensor1d([1, 2, 3, 4]);
    const before = tf.memory().numDataBuffers;
    const b = a.clone();
    expect(tf.memory().numDataBuffers).toBe(before);
    a.dispose();
    expect(Array.from(b.dataSync())).toEqual([1, 2, 3, 4]);
    const c = b.clone();
    b.dispose();
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3, 4]);
    c.dispose();
    expect(tf.memory().numDataBuffers).toBe(before - 1);
  });

  it('gradients through saved (cloned) tensors are unchanged', () => {
    const x = tf.tensor2d([1, -2, 3, 0.5], [2, 2]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.exp(t), tf.square(t))))(x);
    const expected = [1, -2, 3, 0.5].map((v) => Math.exp(v) * (v * v + 2 * v));
    const got = Array.from(g.dataSync());
    got.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 4));
  });
});
