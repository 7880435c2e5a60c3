// Forced fallback: with BLAS switched off, or the native piece unavailable (koffi missing or broken,
// a bogus library path, a library without cblas_sgemm, a loader that throws), the default backend
// still initialises on wasm, computes matMul (plain, transposed, batched, fused, gradients) correctly
// on XNNPACK, and says why in its info.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend, loadBlas } from '../index.js';
import { initBackendWith } from '../init-backend.js';
import { importOptional } from '../module-loading.js';
import type { BackendInfo } from '../types.js';

function notFound(pkg: string): Error & { code: string } {
  return Object.assign(new Error(`Cannot find package '${pkg}' imported from /somewhere/index.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

const noKoffi = (spec: string): Promise<unknown> =>
  spec === 'koffi' ? Promise.reject(notFound('koffi')) : importOptional(spec);
const brokenKoffi = (spec: string): Promise<unknown> =>
  spec === 'koffi'
    ? Promise.reject(new Error('Cannot find the native Koffi module; did you build it?'))
    : importOptional(spec);

/** matMul on the backend now active: plain, both transposes, batched with a shared operand, a gradient. */
function checkMatMul(): void {
  const a = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
  const b = tf.tensor2d([7, 8, 9, 10, 11, 12], [3, 2]);
  expect(Array.from(tf.matMul(a, b).dataSync())).toEqual([58, 64, 139, 154]);
  expect(Array.from(tf.matMul(tf.transpose(a), tf.transpose(b), true, true).dataSync())).toEqual([58, 64, 139, 154]);
  const batched = tf.matMul(tf.stack([a, tf.mul(a, 2)]), b);
  expect(Array.from(batched.dataSync())).toEqual([58, 64, 139, 154, 116, 128, 278, 308]);
  const fused = tf.fused.matMul({ a: tf.stack([a, a]), b, bias: tf.tensor1d([1, -200]), activation: 'relu' });
  expect(Array.from(fused.dataSync())).toEqual([59, 0, 140, 0, 59, 0, 140, 0]);
  // d/dA sum(A·B) = 1·Bᵀ: row sums of B, per row of A
  const g = tf.grad((x: tf.Tensor) => tf.sum(tf.matMul(x as tf.Tensor2D, b)))(a);
  expect(Array.from(g.dataSync())).toEqual([15, 19, 23, 15, 19, 23]);
}

function expectXnnpack(info: BackendInfo, code: string, detail: RegExp): void {
  expect(info.name).toBe('wasm');
  expect(info.gemm?.kernel).toBe('xnnpack');
  expect(info.gemm?.fallback?.code).toBe(code);
  expect(info.gemm?.fallback?.detail).toMatch(detail);
  expect(info.description).toMatch(/GEMM: XNNPACK \(no BLAS: /);
  // forced to XNNPACK even for the largest products
  expect(info.gemm?.library).toBeNull();
  // and model code is told that transposed matMuls are not free (lora-core's fastMatMul)
  expect(tf.env().get('VLA_FAST_MATMUL_BACKEND')).toBe('');
}

describe('forced fallback to XNNPACK', () => {
  it('VLA_BLAS=off: the default (auto) backend runs on wasm + XNNPACK and says so', async () => {
    const info = await initBackend({ env: { VLA_BLAS: 'off' } });
    expectXnnpack(info, 'disabled', /VLA_BLAS=off/);
    checkMatMul();
  });

  it("blas: 'off' (the option wins over VLA_BLAS)", async () => {
    const info = await initBackend({ backend: 'wasm', blas: 'off', env: { VLA_BLAS: 'auto' } });
    expectXnnpack(info, 'disabled', /blas: 'off'/);
    checkMatMul();
  });

  it('a bogus VLA_BLAS path: library-not-found, with what to check', async () => {
    const info = await initBackend({ env: { VLA_BLAS: '/nonexistent/libopenblas.so.0' } });
    expectXnnpack(info, 'library-not-found', /\/nonexistent\/libopenblas\.so\.0.*check the path in VLA_BLAS/);
    checkMatMul();
  });

  it('a library without cblas_sgemm: not-cblas', async () => {
    const info = await initBackend({ backend: 'wasm', blas: 'libc.so.6', env: {} });
    // koffi may be missing on this platform: then that is the reason instead
    if (info.gemm?.fallback?.code === 'koffi-missing') console.warn('koffi not installed: not-cblas not checked');
    else expectXnnpack(info, 'not-cblas', /libc\.so\.6: no cblas_sgemm/);
    checkMatMul();
  });

  it('koffi not installed: koffi-missing, with the npm command', async () => {
    const info = await initBackendWith(
      { env: {} },
      { importOptional, loadBlas: (o) => loadBlas(o, { importOptional: noKoffi }) },
    );
    expectXnnpack(info, 'koffi-missing', /npm i koffi/);
    checkMatMul();
  });

  it('koffi installed but its native part fails to load: koffi-failed', async () => {
    const info = await initBackendWith(
      { backend: 'wasm', env: {} },
      { importOptional, loadBlas: (o) => loadBlas(o, { importOptional: brokenKoffi }) },
    );
    expectXnnpack(info, 'koffi-failed', /native Koffi module/);
    checkMatMul();
  });

  it('a loader that throws still leaves a working backend', async () => {
    const info = await initBackendWith(
      { backend: 'wasm', env: {} },
      {
        importOptional,
        loadBlas: () => {
          throw new Error('injected failure');
        },
      },
    );
    expectXnnpack(info, 'library-not-found', /injected failure/);
    checkMatMul();
  });

  it('and back on BLAS afterwards (when the system has OpenBLAS)', async () => {
    const info = await initBackend({ backend: 'wasm', env: { VLA_BLAS_THREADS: '1' } });
    if (info.gemm?.kernel !== 'blas') {
      console.warn(`SKIPPED: no system BLAS here (${info.description})`);
      return;
    }
    expect(info.gemm.threads).toBe(1);
    expect(info.description).toMatch(/GEMM: OpenBLAS.*1 thread via /);
    expect(tf.env().get('VLA_FAST_MATMUL_BACKEND')).toBe('wasm');
    checkMatMul();
  });
});
