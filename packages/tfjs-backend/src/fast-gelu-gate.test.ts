// The fused gate kernels give exactly the float32 values of the op-by-op computation on wasm
// (the models package's geluTanhGate relies on that: same results with or without them).
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GELU_TANH_GATE, GELU_TANH_GATE_GRAD } from './fast-gelu-gate.js';
import { GELU_GATE_WASM_BASE64 } from './gelu-gate-wasm.js';
import { initBackend } from './index.js';

const K_BETA = Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5;
const K_KAPPA = 0.044715;

describe('fused gelu_tanh(gate) * up kernels on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  /** The kernels' four outputs equal the tfjs op chain's bit for bit on gate values `gv` of `shape`. */
  function expectOpChainValues(gv: Float32Array, shape: [number, number]): void {
    const n = gv.length;
    const g = tf.tensor2d(gv, shape);
    const u = tf.tensor2d(
      Float32Array.from({ length: n }, (_, i) => Math.cos(i * 78.233) * 2),
      shape,
    );
    const dy = tf.tensor2d(
      Float32Array.from({ length: n }, (_, i) => Math.sin(i * 3.7)),
      shape,
    );
    const [y, t] = tf.engine().runKernel(GELU_TANH_GATE, { gate: g, up: u }, {}) as tf.Tensor[];
    const t0 = tf.tanh(tf.mul(tf.add(g, tf.mul(tf.mul(tf.mul(g, g), g), K_KAPPA)), K_BETA));
    const gel = tf.mul(tf.mul(g, 0.5), tf.add(t0, 1));
    expect(Array.from(t!.dataSync())).toEqual(Array.from(t0.dataSync()));
    expect(Array.from(y!.dataSync())).toEqual(Array.from(tf.mul(gel, u).dataSync()));
    const [dg, du] = tf.engine().runKernel(GELU_TANH_GATE_GRAD, { dy, gate: g, up: u, t: t! }, {}) as tf.Tensor[];
    const a = tf.mul(tf.add(t0, 1), 0.5);
    const sech2 = tf.sub(1, tf.square(t0));
    const dInner = tf.mul(tf.add(tf.mul(tf.square(g), 3 * K_KAPPA), 1), K_BETA);
    const b = tf.mul(tf.mul(tf.mul(g, 0.5), sech2), dInner);
    expect(Array.from(dg!.dataSync())).toEqual(Array.from(tf.mul(tf.mul(dy, u), tf.add(a, b)).dataSync()));
    expect(Array.from(du!.dataSync())).toEqual(Array.from(tf.mul(dy, gel).dataSync()));
  }

  it('forward (y, tanh) and gradient (dgate, dup) equal the tfjs ops bit for bit, edges included', () => {
    const edges = [0, -0, 1e-5, -1e-5, 3, -3, 9, -9, 40, -40, 1e4, -1e4];
    const gv = Float32Array.from({ length: 4096 }, (_, i) =>
      i < edges.length ? edges[i]! : Math.sin(i * 12.9898) * 6,
    );
    expectOpChainValues(gv, [64, 64]);
    const g = tf.tensor2d(gv, [64, 64]);
    expect(() => tf.engine().runKernel(GELU_TANH_GATE, { gate: g, up: tf.zeros([2, 2]) }, {})).toThrow(/one shape/);
  });

  it('the same on ragged sizes (a tail past the groups of 4) and where tanh needs Math.tanh mid-array', () => {
    for (const shape of [
      [1, 1],
      [1, 3],
      [7, 13],
      [33, 65],
    ] as Array<[number, number]>) {
      const n = shape[0] * shape[1];
      // |gate| up to ~9: some groups of four have |inner| > 7.9 (Math.tanh), the rest stay in SIMD
      expectOpChainValues(
        Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.731) * (i % 5 === 2 ? 9 : 2.5)),
        shape,
      );
    }
  });

  it('the embedded WebAssembly is what scripts/build-gelu-gate-wasm.mjs compiles from gelu-gate.wat', async () => {
    // @ts-expect-error: a plain .mjs build script without types
    const { compileGeluGateWat } = await import('../scripts/build-gelu-gate-wasm.mjs');
    const bytes = (await compileGeluGateWat()) as Buffer;
    expect(bytes.toString('base64')).toBe(GELU_GATE_WASM_BASE64);
  });
});
