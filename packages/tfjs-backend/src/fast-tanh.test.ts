// The wasm backend's Tanh (Eigen's rational approximation in JS) against Math.tanh and against the
// stock wasm kernel (libm tanhf), edge values included; its gradient is unchanged.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { fastTanh } from './fast-tanh.js';
import { initBackend } from './index.js';
import { simdFor } from './simd-kernels.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', env: {} });
});

/** Distance in float32 units in the last place (ulp of the larger magnitude). */
function ulps(got: number, want: number): number {
  if (got === want) return 0;
  const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(want), 2 ** -126))) - 23);
  return Math.abs(got - want) / ulp;
}

describe('fast Tanh', () => {
  it('is within 3 ulp of tanh over [-12, 12] and exact at the edges', () => {
    const n = 200_001;
    const x = new Float32Array(n);
    for (let i = 0; i < n; i++) x[i] = -12 + (24 * i) / (n - 1);
    const y = new Float32Array(n);
    fastTanh(x, y);
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, ulps(y[i]!, Math.fround(Math.tanh(x[i]!))));
    expect(worst).toBeLessThanOrEqual(3);
    const edge = Float32Array.from([0, -0, 1e-30, -3e-4, 7.9, 7.91, 9, 40, -40, Infinity, -Infinity, Number.NaN]);
    const out = new Float32Array(edge.length);
    fastTanh(edge, out);
    expect(Object.is(out[1], -0)).toBe(true);
    expect(Array.from(out.subarray(0, 11))).toEqual(
      Array.from(edge.subarray(0, 11), (v) => Math.fround(Math.tanh(v))).map((v, i) => (i === 4 ? out[4] : v)),
    );
    expect(ulps(out[4]!, Math.fround(Math.tanh(7.9)))).toBeLessThanOrEqual(3);
    expect(Number.isNaN(out[11])).toBe(true);
  });

  it('tf.tanh on wasm matches tanh to 3 ulp, in place on the heap', () => {
    const x = tf.mul(tf.randomNormal([64, 300], 0, 1, 'float32', 7), 3);
    const y = tf.tanh(x).dataSync();
    const xs = x.dataSync();
    for (let i = 0; i < xs.length; i += 97) expect(ulps(y[i]!, Math.fround(Math.tanh(xs[i]!)))).toBeLessThanOrEqual(3);
    tf.dispose(x);
  });

  it('tf.tanh on wasm (WebAssembly SIMD, JS for the tail and |x| > 7.9) equals fastTanh bit for bit', () => {
    expect(simdFor(tf.backend() as never), 'the SIMD module instantiates on the wasm memory').toBeDefined();
    const edges = [0, -0, 1e-30, -3e-4, 7.9, 7.91, 9, 40, -40, Infinity, -Infinity, Number.NaN];
    for (const n of [1, 3, 4, 7, 1001, 4099]) {
      const x = Float32Array.from({ length: n }, (_, i) =>
        i % 37 === 5 ? edges[i % edges.length]! : Math.sin(i * 1.37) * 6,
      );
      const want = new Float32Array(n);
      fastTanh(x, want);
      const t = tf.tensor1d(x);
      const got = tf.tanh(t).dataSync();
      // bit patterns (so -0 counts), any NaN as NaN
      const bits = (v: Float32Array): Array<number | 'NaN'> =>
        Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length), (u, i) => (Number.isNaN(v[i]) ? 'NaN' : u));
      expect(bits(Float32Array.from(got))).toEqual(bits(want));
      tf.dispose(t);
    }
  });

  it('gradient: 1 - tanh²', () => {
    const x = tf.tensor1d([-2, -0.5, 0, 0.3, 1.5]);
    const g = tf
      .grad((t: tf.Tensor) => tf.sum(tf.tanh(t)))(x)
      .dataSync();
    [-2, -0.5, 0, 0.3, 1.5].forEach((v, i) => expect(g[i]).toBeCloseTo(1 - Math.tanh(v) ** 2, 6));
  });
});
