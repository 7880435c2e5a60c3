// Gemma's MLP gate, gelu_tanh(gate) * up, and its gradient as two wasm kernels in JS over the heap:
// one pass over memory each instead of ~10 elementwise kernels forward and ~13 backward (each a full
// pass over [tokens, intermediate] floats). Every step is the float32 operation tfjs would run, in the
// same order (Math.fround after each), and tanh is this package's Tanh kernel (fast-tanh.ts), so the
// values are bit-identical to the op-by-op computation on the wasm backend. @vla-lora/models calls these
// by name when the active backend has them (`geluTanhGate`), and composes tfjs ops elsewhere.
import * as tf from '@tensorflow/tfjs-core';
import { tanhApprox } from './fast-tanh.js';

/** Kernel names (the same strings in @vla-lora/models' geluTanhGate). */
export const GELU_TANH_GATE = 'VlaGeluTanhGate';
export const GELU_TANH_GATE_GRAD = 'VlaGeluTanhGateGrad';

interface HeapBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: 'float32'): tf.TensorInfo;
  wasm: { HEAPU8: Uint8Array };
}

const f32 = Math.fround;
// the scalars as tfjs uploads them (float32), torch's gelu(approximate='tanh') constants
const K_BETA = f32(Math.SQRT2 * (2 / Math.sqrt(Math.PI)) * 0.5);
const K_KAPPA = f32(0.044715);
const K_KAPPA3 = f32(3 * 0.044715);

function views(backend: HeapBackend, infos: tf.TensorInfo[], n: number): Float32Array[] {
  const heap = new Float32Array(backend.wasm.HEAPU8.buffer);
  return infos.map((t) => {
    const at = backend.dataIdMap.get(t.dataId)!.memoryOffset >>> 2;
    return heap.subarray(at, at + n);
  });
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

/** inputs {gate, up} -> [y = gelu_tanh(gate) * up, t = tanh(inner)] (t is what the gradient needs). */
const forward: tf.KernelFunc = (args) => {
  const gate = args.inputs['gate'] as tf.TensorInfo;
  const up = args.inputs['up'] as tf.TensorInfo;
  checkInputs([gate, up], GELU_TANH_GATE);
  const backend = args.backend as unknown as HeapBackend;
  const y = backend.makeOutput([...gate.shape], 'float32');
  const t = backend.makeOutput([...gate.shape], 'float32');
  const n = tf.util.sizeFromShape(gate.shape);
  // views after makeOutput: growing the heap there replaces the buffer
  const [G, U, Y, T] = views(backend, [gate, up, y, t], n) as [Float32Array, Float32Array, Float32Array, Float32Array];
  for (let i = 0; i < n; i++) {
    const g = G[i]!;
    const x3 = f32(f32(g * g) * g);
    const inner = f32(f32(g + f32(x3 * K_KAPPA)) * K_BETA);
    const th = f32(tanhApprox(inner));
    T[i] = th;
    Y[i] = f32(f32(f32(g * 0.5) * f32(th + 1)) * U[i]!);
  }
  return [y, t];
};

/** inputs {dy, gate, up, t} -> [dGate, dUp]. */
const backward: tf.KernelFunc = (args) => {
  const dy = args.inputs['dy'] as tf.TensorInfo;
  const gate = args.inputs['gate'] as tf.TensorInfo;
  const up = args.inputs['up'] as tf.TensorInfo;
  const t = args.inputs['t'] as tf.TensorInfo;
  checkInputs([dy, gate, up, t], GELU_TANH_GATE_GRAD);
  const backend = args.backend as unknown as HeapBackend;
  const dGate = backend.makeOutput([...gate.shape], 'float32');
  const dUp = backend.makeOutput([...gate.shape], 'float32');
  const n = tf.util.sizeFromShape(gate.shape);
  const [DY, G, U, T, DG, DU] = views(backend, [dy, gate, up, t, dGate, dUp], n) as Float32Array[];
  for (let i = 0; i < n; i++) {
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
  return [dGate, dUp];
};

/** Registers both kernels for the wasm backend (idempotent). */
export function installGeluTanhGate(): void {
  for (const [kernelName, kernelFunc] of [
    [GELU_TANH_GATE, forward],
    [GELU_TANH_GATE_GRAD, backward],
  ] as const) {
    if (tf.getKernel(kernelName, 'wasm') !== undefined) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ kernelName, backendName: 'wasm', kernelFunc });
  }
}
