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

describe('engine clone() of saved tensors runs no Identity kernel on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('the same gradients (kernel saves and customGrad saves), no Identity dispatched, nothing leaked', async () => {
    const x = tf.variable(tf.tensor2d([1, -2, 3, 0.5], [2, 2]));
    const cube = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const [t, save] = args as [tf.Tensor, tf.GradSaveFunc];
      save([t]);
      return {
        value: tf.mul(tf.square(t), t),
        gradFunc: (dy: tf.Tensor, [s]: tf.Tensor[]) => tf.mul(dy, tf.mul(3, tf.square(s!))),
      };
    });
    const loss = () => tf.sum(tf.mul(tf.exp(x), cube(x) as tf.Tensor)) as tf.Scalar;
    const before = tf.memory().numTensors;
    const prof = await tf.profile(() => {
      const { value, grads } = tf.variableGrads(loss, [x]);
      value.dispose();
      return grads[x.name]!;
    });
    expect(prof.kernels.filter((k) => k.name === 'Identity')).toEqual([]);
    const g = (prof.result as tf.Tensor).dataSync();
    const expected = [1, -2, 3, 0.5].map((v) => Math.exp(v) * (v ** 3 + 3 * v * v));
    Array.from(g).forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 3));
    (prof.result as tf.Tensor).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});

describe('wasm Slice / Unpack / SplitV read the input in place', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  /** Row-major values of x[begin : begin + size] computed in plain JS. */
  function expectedSlice(data: Float32Array, shape: number[], begin: number[], size: number[]): number[] {
    const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
    const out: number[] = [];
    const walk = (d: number, off: number): void => {
      if (d === shape.length) {
        out.push(data[off]!);
        return;
      }
      for (let i = 0; i < size[d]!; i++) walk(d + 1, off + (begin[d]! + i) * strides[d]!);
    };
    walk(0, 0);
    return out;
  }

  it('slices of every rank 1-5, contiguous or not, short and long rows, equal the plain-JS values', () => {
    expect((tf.getKernel('Slice', 'wasm')!.kernelFunc as { fromHeap?: boolean }).fromHeap).toBe(true);
    const cases: Array<[number[], number[], number[]]> = [
      [[10], [3], [5]],
      [
        [4, 70],
        [1, 3],
        [2, 65],
      ],
      [
        [4, 6],
        [0, 2],
        [4, 3],
      ],
      [
        [3, 5, 7],
        [1, 0, 0],
        [2, 5, 7],
      ],
      [
        [3, 5, 7],
        [0, 1, 2],
        [3, 3, 4],
      ],
      [
        [2, 3, 4, 8],
        [1, 1, 0, 4],
        [1, 2, 4, 4],
      ],
      [
        [2, 3, 2, 2, 5],
        [0, 1, 1, 0, 1],
        [2, 2, 1, 2, 3],
      ],
    ];
    for (const [shape, begin, size] of cases) {
      const n = shape.reduce((a, b) => a * b, 1);
      const data = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3);
      const x = tf.tensor(data, shape);
      const y = tf.slice(x, begin, size);
      expect(y.shape).toEqual(size);
      expect(Array.from(y.dataSync())).toEqual(expectedSlice(data, shape, begin, size));
      tf.dispose([x, y]);
    }
    const ints = tf.slice(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3], 'int32'), [0, 1], [2, 2]);
    expect(ints.dtype).toBe('int32');
    expect(Array.from(ints.dataSync())).toEqual([2, 3, 5, 6]);
  });

  it('unstack and split give the same pieces as slicing, on any axis, with no buffer left behind', () => {
    const data = Float32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const x = tf.tensor3d(data, [2, 3, 4]);
    const before = tf.memory().numDataBuffers;
    for (const axis of [0, 1, 2, -1]) {
      const ax = axis < 0 ? axis + 3 : axis;
      const parts = tf.unstack(x, axis);
      parts.forEach((p, i) => {
        const begin = [0, 0, 0];
        begin[ax] = i;
        const size = [2, 3, 4];
        size[ax] = 1;
        expect(p.shape).toEqual(size.filter((_, d) => d !== ax));
        expect(Array.from(p.dataSync())).toEqual(expectedSlice(data, [2, 3, 4], begin, size));
      });
      tf.dispose(parts);
    }
    const [a, b] = tf.split(x, [1, 3], 2);
    expect(Array.from(a!.dataSync())).toEqual(expectedSlice(data, [2, 3, 4], [0, 0, 0], [2, 3, 1]));
    expect(Array.from(b!.dataSync())).toEqual(expectedSlice(data, [2, 3, 4], [0, 0, 1], [2, 3, 3]));
    tf.dispose([a!, b!]);
    expect(tf.memory().numDataBuffers).toBe(before);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.unstack(t, 1)[2]!, 3)))(x);
    expect(Array.from(g.dataSync())).toEqual(Array.from(data, (_, i) => (Math.floor(i / 4) % 3 === 2 ? 3 : 0)));
  });
});
