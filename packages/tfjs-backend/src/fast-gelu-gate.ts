// Gemma's MLP gate, gelu_tanh(gate) * up, and its gradient as two wasm kernels over the heap: one pass
// over memory each instead of ~10 elementwise kernels forward and ~13 backward (each a full pass over
// [tokens, intermediate] floats). Every step is the float32 operation tfjs would run, in the same order,
// and tanh is this package's Tanh kernel (fast-tanh.ts), so the values are bit-identical to the op-by-op
// computation on the wasm backend. The loops run in WebAssembly SIMD (gelu-gate.wat) on tfjs's own
// memory, four floats a step (~1-3 ns/element); the JS loops below (Math.fround after each operation,
// ~12-19 ns/element) do the ragged tail, groups whose tanh needs Math.tanh, and engines without SIMD. @vla-lora/models calls these
// by name when the active backend has them (`geluTanhGate`), and composes tfjs ops elsewhere.
import * as tf from '@tensorflow/tfjs-core';
import { tanhApprox } from './fast-tanh.js';
import { simdFor } from './simd-kernels.js';
import { heapByteOffset, replaceWasmKernel, type WasmHeapBackend } from './wasm-heap.js';

/** Kernel names (the same strings in @vla-lora/models' geluTanhGate). */
export const GELU_TANH_GATE = 'VlaGeluTanhGate';
export const GELU_TANH_GATE_GRAD = 'VlaGeluTanhGateGrad';

const f32 = Math.fround;
// the scalars as tfjs uploads them (float32), torch's gelu(approximate='tanh') constants
const K_BETA = f32(Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5);
const K_KAPPA = f32(0.044715);
const K_KAPPA3 = f32(3 * 0.044715);

/** Float32 views of `infos` (n elements each) over the heap as it is now. */
function views(backend: WasmHeapBackend, offsets: number[], n: number): Float32Array[] {
  const buffer = backend.wasm.HEAPU8.buffer;
  return offsets.map((at) => new Float32Array(buffer, at, n));
}

function checkInputs(ts: tf.TensorInfo[], kernel: string): void {
  for (const t of ts) {
    if (
      t.dtype !== 'float32' ||
      t.shape.length !== ts[0]!.shape.length ||
      t.shape.some((d, i) => d !== ts[0]!.shape[i])
    )
      throw new Error(`${kernel}: float32 inputs of one shape expected`);
  }
}

function forwardRange([G, U, Y, T]: Float32Array[], from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const g = G![i]!;
    const x3 = f32(f32(g * g) * g);
    const inner = f32(f32(g + f32(x3 * K_KAPPA)) * K_BETA);
    const th = f32(tanhApprox(inner));
    T![i] = th;
    Y![i] = f32(f32(f32(g * 0.5) * f32(th + 1)) * U![i]!);
  }
}

function backwardRange([DY, G, U, T, DG, DU]: Float32Array[], from: number, to: number): void {
  for (let i = from; i < to; i++) {
    const d = DY![i]!;
    const g = G![i]!;
    const th = T![i]!;
    const gHalf = f32(g * 0.5);
    const t1 = f32(th + 1);
    DU![i] = f32(d * f32(gHalf * t1)); // dy * gelu(gate)
    const a = f32(t1 * 0.5);
    const sech2 = f32(1 - f32(th * th));
    const dInner = f32(f32(f32(f32(g * g) * K_KAPPA3) + 1) * K_BETA);
    const b = f32(f32(gHalf * sech2) * dInner);
    DG![i] = f32(f32(d * U![i]!) * f32(a + b));
  }
}

/** inputs {gate, up} -> [y = gelu_tanh(gate) * up, t = tanh(inner)] (t is what the gradient needs). */
const forward: tf.KernelFunc = (args) => {
  const gate = args.inputs['gate'] as tf.TensorInfo;
  const up = args.inputs['up'] as tf.TensorInfo;
  checkInputs([gate, up], GELU_TANH_GATE);
  const backend = args.backend as unknown as WasmHeapBackend;
  const y = backend.makeOutput([...gate.shape], 'float32');
  const t = backend.makeOutput([...gate.shape], 'float32');
  const n = tf.util.sizeFromShape(gate.shape);
  // offsets after makeOutput (which may grow the heap)
  const at = [gate, up, y, t].map((x) => heapByteOffset(backend, x)) as [number, number, number, number];
  const simd = simdFor(backend);
  let i = 0;
  if (simd !== undefined) {
    for (;;) {
      i = simd.forward(at[0], at[1], at[2], at[3], i, n, K_KAPPA, K_BETA);
      if (i + 4 > n) break;
      forwardRange(views(backend, at, n), i, i + 4); // a group with |inner| > 7.9 (Math.tanh)
      i += 4;
    }
  }
  if (i < n) forwardRange(views(backend, at, n), i, n);
  return [y, t];
};

/** inputs {dy, gate, up, t} -> [dGate, dUp]. */
const backward: tf.KernelFunc = (args) => {
  const dy = args.inputs['dy'] as tf.TensorInfo;
  const gate = args.inputs['gate'] as tf.TensorInfo;
  const up = args.inputs['up'] as tf.TensorInfo;
  const t = args.inputs['t'] as tf.TensorInfo;
  checkInputs([dy, gate, up, t], GELU_TANH_GATE_GRAD);
  const backend = args.backend as unknown as WasmHeapBackend;
  const dGate = backend.makeOutput([...gate.shape], 'float32');
  const dUp = backend.makeOutput([...gate.shape], 'float32');
  const n = tf.util.sizeFromShape(gate.shape);
  const at = [dy, gate, up, t, dGate, dUp].map((x) => heapByteOffset(backend, x));
  const simd = simdFor(backend);
  const done = simd?.backward(at[0]!, at[1]!, at[2]!, at[3]!, at[4]!, at[5]!, n, K_KAPPA3, K_BETA) ?? 0;
  if (done < n) backwardRange(views(backend, at, n), done, n);
  return [dGate, dUp];
};

/** Registers both kernels for the wasm backend (idempotent). */
export function installGeluTanhGate(): void {
  for (const [kernelName, kernelFunc] of [
    [GELU_TANH_GATE, forward],
    [GELU_TANH_GATE_GRAD, backward],
  ] as const)
    replaceWasmKernel(kernelName, kernelFunc);
}
