// The written-out gradients of gemmaRmsNorm and geluTanhGate compute what tfjs's autodiff of the
// same expressions computes, kernel for kernel: forward values and gradients equal to the last bit.
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, setupBackend } from '../test-support.js';
import { geluTanh, geluTanhGate } from './activations.js';
import { gemmaRmsNorm } from './norms.js';

beforeAll(async () => {
  await setupBackend();
});

/** The expressions as plain tfjs ops (tfjs's own gradients). */
const rmsNormAutodiff = (x: tf.Tensor, w: tf.Tensor, eps: number): tf.Tensor =>
  tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), tf.add(w, 1));

describe('written-out gradients equal autodiff exactly', () => {
  it('gemmaRmsNorm: value, dx and dweight (trainable and frozen weight)', async () => {
    const x = tf.randomNormal([3, 5, 16], 0, 2, 'float32', 1);
    const w = tf.randomNormal([16], 0, 0.3, 'float32', 2);
    const cot = tf.randomNormal([3, 5, 16], 0, 1, 'float32', 3);
    expect(maxAbsDiff(await gemmaRmsNorm(x, w, 1e-6).data(), await rmsNormAutodiff(x, w, 1e-6).data())).toBe(0);
    const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(gemmaRmsNorm(a, b, 1e-6), cot)))([x, w]);
    const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(rmsNormAutodiff(a, b, 1e-6), cot)))([x, w]);
    for (let i = 0; i < 2; i++) expect(maxAbsDiff(await ours[i]!.data(), await ref[i]!.data())).toBe(0);
    const frozen = tf.variable(w, false);
    const dx = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(gemmaRmsNorm(a, frozen, 1e-6), cot)))(x);
    expect(maxAbsDiff(await dx.data(), await ref[0]!.data())).toBe(0);
    const trainable = tf.variable(w, true);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(gemmaRmsNorm(x, trainable, 1e-6), cot)) as tf.Scalar,
      [trainable],
    );
    expect(maxAbsDiff(await grads[trainable.name]!.data(), await ref[1]!.data())).toBe(0);
  });

  // on wasm, @vla-lora/tfjs-backend registers the fused kernels: check both the fused and the op path
  for (const path of ['fused kernels where registered', 'tfjs ops'] as const) {
    it(`geluTanhGate (${path}): value, dgate and dup equal gelu_tanh(gate) * up through autodiff`, async () => {
      const names = ['VlaGeluTanhGate', 'VlaGeluTanhGateGrad'];
      const configs = names.map((n) => tf.getKernel(n, tf.getBackend()));
      if (tf.getBackend() === 'wasm') expect(configs.every((c) => c !== undefined)).toBe(true);
      if (path === 'tfjs ops') for (const c of configs) if (c) tf.unregisterKernel(c.kernelName, c.backendName);
      try {
        const g = tf.randomNormal([4, 6, 32], 0, 3, 'float32', 4);
        const u = tf.randomNormal([4, 6, 32], 0, 1, 'float32', 5);
        const cot = tf.randomNormal([4, 6, 32], 0, 1, 'float32', 6);
        const composite = (a: tf.Tensor, b: tf.Tensor): tf.Tensor => tf.mul(geluTanh(a), b);
        expect(maxAbsDiff(await geluTanhGate(g, u).data(), await composite(g, u).data())).toBe(0);
        const ours = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(geluTanhGate(a, b), cot)))([g, u]);
        const ref = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(composite(a, b), cot)))([g, u]);
        for (let i = 0; i < 2; i++) expect(maxAbsDiff(await ours[i]!.data(), await ref[i]!.data())).toBe(0);
      } finally {
        if (path === 'tfjs ops') for (const c of configs) if (c) tf.registerKernel(c);
      }
    });
  }

  it('leave no tensors behind per call', () => {
    const x = tf.randomNormal([2, 3, 8], 0, 1, 'float32', 7);
    const w = tf.variable(tf.zeros([8]), false);
    const before = tf.memory().numTensors;
    tf.dispose(gemmaRmsNorm(x, w, 1e-6));
    tf.dispose(geluTanhGate(x, x));
    tf.dispose(tf.grad((a: tf.Tensor) => tf.sum(geluTanhGate(gemmaRmsNorm(a, w, 1e-6), a)))(x));
    expect(tf.memory().numTensors).toBe(before);
  });
});
