// `auto` with nothing optional installed: wasm (SIMD) with the reason, gradients registered.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it, vi } from 'vitest';
import { initBackend } from './index.js';
import { initBackendWith } from './init-backend.js';
import { importOptional } from './module-loading.js';

describe('initBackend auto', () => {
  it('picks wasm with SIMD when tfjs-node is not installed and says why', async () => {
    const info = await initBackend({ env: { VLA_BLAS: 'off' } });
    expect(info.name).toBe('wasm');
    expect(info.requested).toBe('auto');
    expect(info.source).toBe('default');
    expect(info.simd).toBe(true);
    expect(info.threads).toBe(1);
    expect(tf.getBackend()).toBe('wasm');
    expect(info.reason).toBe('auto: tfjs-node-gpu, tfjs-node not installed');
    expect(info.description).toBe(
      'backend: wasm (SIMD, 1 thread; GEMM: XNNPACK (no BLAS: VLA_BLAS=off)) — auto: tfjs-node-gpu, tfjs-node not installed',
    );
    expect(info.wasmDir).toMatch(/tfjs-backend-wasm[/\\]dist$/);
  });

  it('registers gradients: matMul and softmax gradients match hand-computed values', async () => {
    await initBackend({ env: {} });
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    // d/dA sum(A·A) = 1·Aᵀ + Aᵀ·1 -> [[1+2+1+3, 3+4+1+3]...] computed explicitly:
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.matMul(a as tf.Tensor2D, a as tf.Tensor2D)))(x);
    expect(Array.from(await g.data())).toEqual([7, 11, 9, 13]);
    // softmax rows sum to one, so d/dx sum(softmax(x)) is zero everywhere
    const gs = tf.grad((a: tf.Tensor) => tf.sum(tf.softmax(a)))(x);
    for (const v of await gs.data()) expect(Math.abs(v)).toBeLessThan(1e-6);
  });

  it('never picks webgpu silently, even when an adapter would be available', async () => {
    const loadWebGpu = vi.fn(async () => ({ create: () => ({ requestAdapter: async () => ({}) }), globals: {} }));
    const info = await initBackendWith({ env: {} }, { importOptional, loadWebGpu });
    expect(info.name).toBe('wasm');
    expect(loadWebGpu).not.toHaveBeenCalled();
  });

  it('honours VLA_BACKEND=cpu and logs where the choice came from', async () => {
    const info = await initBackend({ env: { VLA_BACKEND: 'cpu' } });
    expect(info.name).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.description).toBe('backend: cpu (no SIMD, 1 thread) — VLA_BACKEND=cpu');
    const back = await initBackend({ backend: 'wasm', blas: 'off', env: { VLA_BACKEND: 'cpu' } });
    expect(back.name).toBe('wasm');
    expect(back.description).toBe(
      "backend: wasm (SIMD, 1 thread; GEMM: XNNPACK (no BLAS: blas: 'off' requested)) — requested by --backend",
    );
  });
});

describe('gradient registration', () => {
  it('registers the gradients tfjs-core defines (bundled copy matches the installed version)', async () => {
    const { registerAllGradients } = await import('./index.js');
    const { TFJS_CORE_VERSION } = await import('./vendor/tfjs-core-gradients.js');
    await registerAllGradients();
    expect(TFJS_CORE_VERSION).toBe(tf.version_core);
    await initBackend({ backend: 'cpu', env: {} });
    // conv2d, gather, a reduction and an elementwise chain: d/dx sum(conv(x, 1s)) counts each pixel's uses
    const g = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.conv2d(x as tf.Tensor4D, tf.ones([2, 2, 1, 1]) as tf.Tensor4D, 1, 'same')),
    )(tf.ones([1, 3, 3, 1]));
    expect(Array.from(await g.data())).toEqual([1, 2, 2, 2, 4, 4, 2, 4, 4]);
    const gg = tf.grad((x: tf.Tensor) => tf.sum(tf.gather(x, [0, 0, 2])))(tf.tensor1d([5, 6, 7]));
    expect(Array.from(await gg.data())).toEqual([2, 0, 1]);
    const ge = tf.grad((x: tf.Tensor) => tf.sum(tf.exp(tf.mul(x, 2))))(tf.scalar(0));
    expect(await ge.data()).toEqual(new Float32Array([2]));
  });
});
