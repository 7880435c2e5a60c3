// A faster Tanh for tfjs-backend-wasm 4.22 (pinned): its kernel calls libm's tanhf per element
// (≈ 16–20 ns each: 4 calls on [8,128,2048] were 12 % of the wide Gemma step's kernel time, GELU-tanh).
// This one evaluates Eigen's float rational approximation (`generic_fast_tanh_float`) in double
// precision over the wasm heap in place, within 3 ulp (6e-8) of tanh (tested against Math.tanh): in
// WebAssembly SIMD (gelu-gate.wat, the same double operations as tanhApprox below, so the same floats),
// with tanhApprox in JS for the tail, groups with |x| > 7.9 and engines without SIMD.
import * as tf from '@tensorflow/tfjs-core';
import { simdFor } from './simd-kernels.js';
import { heapByteOffset, replaceWasmKernel, type WasmHeapBackend } from './wasm-heap.js';

/** Beyond this, the rational form drifts from ±1: those (rare) inputs use Math.tanh. */
const CLAMP = 7.9;

/** tanh(v) by the rational approximation below (double precision; round to float32 when storing). */
export function tanhApprox(v: number): number {
  const a = Math.abs(v);
  if (a < 0.0004) return v; // tanh(v) = v to float precision (and keeps -0)
  if (a > CLAMP) return Math.tanh(v); // also ±Infinity
  const x2 = v * v;
  let p = -2.76076847742355e-16;
  p = p * x2 + 2.00018790482477e-13;
  p = p * x2 - 8.60467152213735e-11;
  p = p * x2 + 5.12229709037114e-8;
  p = p * x2 + 1.48572235717979e-5;
  p = p * x2 + 6.37261928875436e-4;
  p = p * x2 + 4.89352455891786e-3;
  let q = 1.19825839466702e-6;
  q = q * x2 + 1.18534705686654e-4;
  q = q * x2 + 2.268434632439e-3;
  q = q * x2 + 4.89352518554385e-3;
  return (v * p) / q; // NaN stays NaN
}

/** tanh of every element of `x` into `y` (same length; may be the same array). */
export function fastTanh(x: Float32Array, y: Float32Array): void {
  for (let i = 0; i < x.length; i++) y[i] = tanhApprox(x[i]!);
}

/** Replaces the wasm backend's Tanh kernel (float32; other dtypes keep the original). Idempotent. */
export function installFastTanh(): void {
  if (tf.getKernel('Tanh', 'wasm') === undefined) return;
  const replaced = replaceWasmKernel('Tanh', tanhKernel);
  if (replaced !== undefined) original = replaced.kernelFunc;
}

let original: tf.KernelFunc | undefined;

const tanhKernel: tf.KernelFunc = (args) => {
  const x = args.inputs['x'] as tf.TensorInfo;
  if (x.dtype !== 'float32' && original !== undefined) return original(args);
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput([...x.shape], 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  // offsets and views after makeOutput: growing the heap there replaces the buffer
  const from = heapByteOffset(backend, x);
  const to = heapByteOffset(backend, out);
  const simd = simdFor(backend);
  let i = 0;
  // WebAssembly SIMD, four at a time, the same doubles as tanhApprox; groups needing Math.tanh and the tail in JS
  for (;;) {
    if (simd !== undefined) i = simd.tanh(from, to, i, n);
    const end = simd !== undefined && i + 4 <= n ? i + 4 : n;
    if (i >= end) break;
    const buffer = backend.wasm.HEAPU8.buffer;
    fastTanh(new Float32Array(buffer, from + 4 * i, end - i), new Float32Array(buffer, to + 4 * i, end - i));
    i = end;
  }
  return out;
};
