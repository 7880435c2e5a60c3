// BatchMatMul and _FusedMatMul for tfjs-backend-wasm 4.22 (pinned) on a system CBLAS: the operands
// are read in place on the wasm heap (Float32Array views at each tensor's memoryOffset), transposes are
// CblasTrans flags (no copies), batch dims broadcast by strides, one cblas_sgemm per batch entry (one for
// all of them when the right operand is shared). Small products, non-float32 inputs and a missing BLAS
// go to the original kernels (XNNPACK), saved from the registry before they are replaced.
import * as tf from '@tensorflow/tfjs-core';
import { heapByteOffset, replaceWasmKernel, type WasmHeapBackend } from '../wasm-heap.js';
import { type BlasLibrary, CBLAS_NO_TRANS, CBLAS_ROW_MAJOR, CBLAS_TRANS } from './load.js';

/**
 * Products of fewer multiply-adds (batch·M·N·K) than this stay on XNNPACK: below it the FFI call and
 * OpenBLAS's set-up cost more than the product (measured by `pnpm bench` in this package).
 */
export const DEFAULT_BLAS_MIN_MACS = 16 * 16 * 16;

/**
 * One cblas_sgemm call of fewer multiply-adds than this runs on one thread. Threads only pay off for
 * large products: the skinny LoRA products ([1024,512]·[512,8]) and per-head attention products ran
 * 2–4× slower on two threads than on one (wide Gemma step, shared 2-core box), the large ones alike.
 */
export const BLAS_MULTITHREAD_MIN_MACS = 2 ** 26;

interface GemmState {
  blas: BlasLibrary | null;
  minMacs: number;
  /** Threads OpenBLAS is set to now (null: unknown, set before the next call). */
  threadsNow: number | null;
}

const state: GemmState = { blas: null, minMacs: DEFAULT_BLAS_MIN_MACS, threadsNow: null };

/** One thread for a call below BLAS_MULTITHREAD_MIN_MACS, all of them above; set only when it changes. */
function threadsFor(blas: BlasLibrary, macs: number): void {
  if (blas.setThreads === null || blas.threads === null || blas.threads <= 1) return;
  const want = macs >= BLAS_MULTITHREAD_MIN_MACS ? blas.threads : 1;
  if (state.threadsNow !== want) {
    blas.setThreads(want);
    state.threadsNow = want;
  }
}
const originals = new Map<string, tf.KernelConfig>();
const KERNELS = ['BatchMatMul', '_FusedMatMul', 'Transpose'] as const;

/** Transposes of fewer elements than this stay on the wasm kernel. */
const TRANSPOSE_MIN_ELEMENTS = 4096;

/** Index of `t`'s first element in a Float32Array over the whole heap. */
function heapOffset(backend: WasmHeapBackend, t: tf.TensorInfo): number {
  return heapByteOffset(backend, t) >>> 2;
}

interface Plan {
  m: number;
  n: number;
  k: number;
  outShape: number[];
  batch: number;
  /** Index into a's / b's batch for each output batch entry (broadcasting); null: all equal to the entry. */
  aIndex: Int32Array | null;
  bIndex: Int32Array | null;
}

function batchIndex(outBatch: readonly number[], own: readonly number[], count: number): Int32Array | null {
  const padded = [...new Array<number>(outBatch.length - own.length).fill(1), ...own];
  if (padded.every((d, i) => d === outBatch[i])) return null;
  const strides = new Array<number>(padded.length).fill(0);
  let s = 1;
  for (let d = padded.length - 1; d >= 0; d--) {
    strides[d] = padded[d] === 1 ? 0 : s;
    s *= padded[d]!;
  }
  const idx = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    let rest = i;
    let at = 0;
    for (let d = outBatch.length - 1; d >= 0; d--) {
      const dim = outBatch[d]!;
      at += (rest % dim) * strides[d]!;
      rest = Math.floor(rest / dim);
    }
    idx[i] = at;
  }
  return idx;
}

function plan(a: tf.TensorInfo, b: tf.TensorInfo, transposeA: boolean, transposeB: boolean): Plan {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const k = transposeA ? a.shape[ra - 2]! : a.shape[ra - 1]!;
  const kb = transposeB ? b.shape[rb - 1]! : b.shape[rb - 2]!;
  const m = transposeA ? a.shape[ra - 1]! : a.shape[ra - 2]!;
  const n = transposeB ? b.shape[rb - 2]! : b.shape[rb - 1]!;
  tf.util.assert(
    k === kb,
    () =>
      `Error in matMul: inner shapes (${k}) and (${kb}) of Tensors with shapes ${a.shape} and ${b.shape} and ` +
      `transposeA=${transposeA} and transposeB=${transposeB} must match.`,
  );
  const aBatch = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  const outBatch = tf.broadcast_util.assertAndGetBroadcastShape(aBatch, bBatch);
  const batch = tf.util.sizeFromShape(outBatch);
  return {
    m,
    n,
    k,
    batch,
    outShape: [...outBatch, m, n],
    aIndex: batchIndex(outBatch, aBatch, batch),
    bIndex: batchIndex(outBatch, bBatch, batch),
  };
}

/** Runs the product into `out` (beta 0, or 1 to accumulate onto what `out` holds). */
function gemm(
  blas: BlasLibrary,
  backend: WasmHeapBackend,
  a: tf.TensorInfo,
  b: tf.TensorInfo,
  out: tf.TensorInfo,
  p: Plan,
  transposeA: boolean,
  transposeB: boolean,
  beta: number,
): void {
  // views only now: allocating `out` may have grown (and so replaced) the wasm memory
  const heap = new Float32Array(backend.wasm.HEAPU8.buffer);
  const aOff = heapOffset(backend, a);
  const bOff = heapOffset(backend, b);
  const cOff = heapOffset(backend, out);
  const { m, n, k } = p;
  const ta = transposeA ? CBLAS_TRANS : CBLAS_NO_TRANS;
  const tb = transposeB ? CBLAS_TRANS : CBLAS_NO_TRANS;
  const lda = transposeA ? m : k;
  const ldb = transposeB ? k : n;
  const aSize = m * k;
  const bSize = k * n;
  const cSize = m * n;
  const bShared = p.bIndex?.every((v) => v === 0) === true;
  if (!transposeA && p.aIndex === null && (p.batch === 1 || bShared)) {
    // a's batch entries are consecutive row blocks of one [batch·M, K] matrix: one call
    const rows = p.batch * m;
    threadsFor(blas, rows * n * k);
    blas.sgemm(
      CBLAS_ROW_MAJOR,
      ta,
      tb,
      rows,
      n,
      k,
      1,
      heap.subarray(aOff, aOff + rows * k),
      lda,
      heap.subarray(bOff, bOff + bSize),
      ldb,
      beta,
      heap.subarray(cOff, cOff + rows * n),
      n,
    );
    return;
  }
  threadsFor(blas, m * n * k);
  for (let i = 0; i < p.batch; i++) {
    const ai = p.aIndex === null ? i : p.aIndex[i]!;
    const bi = p.bIndex === null ? i : p.bIndex[i]!;
    const ao = aOff + ai * aSize;
    const bo = bOff + bi * bSize;
    const co = cOff + i * cSize;
    blas.sgemm(
      CBLAS_ROW_MAJOR,
      ta,
      tb,
      m,
      n,
      k,
      1,
      heap.subarray(ao, ao + aSize),
      lda,
      heap.subarray(bo, bo + bSize),
      ldb,
      beta,
      heap.subarray(co, co + cSize),
      n,
    );
  }
}

function useBlas(p: Plan, a: tf.TensorInfo, b: tf.TensorInfo): BlasLibrary | null {
  const blas = state.blas;
  if (blas === null || a.dtype !== 'float32' || b.dtype !== 'float32') return null;
  if (p.m === 0 || p.n === 0 || p.k === 0 || p.batch === 0) return null;
  return p.batch * p.m * p.n * p.k < state.minMacs ? null : blas;
}

function original(name: string): tf.KernelFunc {
  const config = originals.get(name);
  if (config === undefined) throw new Error(`BLAS GEMM: no original wasm ${name} kernel saved`);
  return config.kernelFunc;
}

function runKernel(
  name: string,
  backend: WasmHeapBackend,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const config = tf.getKernel(name, 'wasm');
  if (config === undefined) throw new Error(`BLAS GEMM: the wasm backend has no ${name} kernel`);
  return config.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs }) as tf.TensorInfo;
}

const batchMatMul: tf.KernelFunc = (args) => {
  const a = args.inputs['a'] as tf.TensorInfo;
  const b = args.inputs['b'] as tf.TensorInfo;
  const { transposeA, transposeB } = args.attrs as unknown as tf.BatchMatMulAttrs;
  const p = plan(a, b, transposeA, transposeB);
  const blas = useBlas(p, a, b);
  if (blas === null) return original('BatchMatMul')(args);
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput(p.outShape, 'float32');
  gemm(blas, backend, a, b, out, p, transposeA, transposeB, 0);
  return out;
};

const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  sigmoid: 'Sigmoid',
  elu: 'Elu',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu',
};

/** Adds a bias that is not a plain row (Add kernel, broadcasting), then applies the activation. */
function epilogue(
  backend: WasmHeapBackend,
  out: tf.TensorInfo,
  bias: tf.TensorInfo | undefined,
  act: string,
  prelu: tf.TensorInfo | undefined,
  leakyreluAlpha: number | undefined,
): tf.TensorInfo {
  let y = out;
  if (bias != null) {
    const sum = runKernel('Add', backend, { a: y, b: bias });
    backend.disposeData(y.dataId);
    y = sum;
  }
  if (act !== 'linear') {
    const inputs: tf.NamedTensorInfoMap = act === 'prelu' ? { x: y, alpha: prelu as tf.TensorInfo } : { x: y };
    const z = runKernel(
      ACTIVATION_KERNELS[act]!,
      backend,
      inputs,
      act === 'leakyrelu' ? { alpha: leakyreluAlpha ?? 0.2 } : {},
    );
    backend.disposeData(y.dataId);
    y = z;
  }
  return y;
}

const fusedMatMul: tf.KernelFunc = (args) => {
  const { a, b, bias, preluActivationWeights } = args.inputs as unknown as tf._FusedMatMulInputs;
  const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as unknown as tf._FusedMatMulAttrs;
  const act = activation ?? 'linear';
  if (act !== 'linear' && ACTIVATION_KERNELS[act] === undefined) return original('_FusedMatMul')(args);
  const p = plan(a, b, transposeA, transposeB);
  const backend = args.backend as unknown as WasmHeapBackend;
  const blas = useBlas(p, a, b);
  if (blas === null) {
    if (bias == null || (p.batch === 1 && !transposeA && !transposeB)) return original('_FusedMatMul')(args);
    // tfjs-backend-wasm 4.22's fused kernel adds the bias wrongly to batched or transposed products
    // (every row after the first is off): the product on its BatchMatMul, then Add and the activation
    const prod = original('BatchMatMul')({
      inputs: { a, b },
      backend: args.backend,
      attrs: { transposeA, transposeB },
    });
    return epilogue(backend, prod as tf.TensorInfo, bias, act, preluActivationWeights, leakyreluAlpha);
  }
  const out = backend.makeOutput(p.outShape, 'float32');
  // a rank-1 bias of length N is written into every row first and accumulated onto (beta = 1)
  const rowBias = bias != null && bias.shape.length === 1 && bias.shape[0] === p.n && bias.dtype === 'float32';
  if (rowBias) {
    const heap = new Float32Array(backend.wasm.HEAPU8.buffer);
    const from = heapOffset(backend, bias);
    const src = heap.subarray(from, from + p.n);
    const dst = heapOffset(backend, out);
    for (let r = 0, rows = p.batch * p.m; r < rows; r++) heap.set(src, dst + r * p.n);
  }
  gemm(blas, backend, a, b, out, p, transposeA, transposeB, rowBias ? 1 : 0);
  return epilogue(backend, out, rowBias ? undefined : bias, act, preluActivationWeights, leakyreluAlpha);
};

/**
 * Drops size-1 dims and merges dims that stay adjacent under `perm`: e.g. [8,128,512] with perm [0,2,1]
 * stays a batch of 8 transposes, [2,3,4,5] with perm [2,3,0,1] becomes [6,20] with perm [1,0].
 */
export function collapsePerm(shape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = shape.map((d, i) => (d === 1 ? -1 : i)).filter((i) => i >= 0);
  const index = new Map(kept.map((d, i) => [d, i]));
  const s = kept.map((d) => shape[d]!);
  const p = perm.filter((d) => shape[d] !== 1).map((d) => index.get(d)!);
  // runs of output positions whose input dims are consecutive
  const runs: number[][] = [];
  for (const d of p) {
    const last = runs.at(-1);
    if (last !== undefined && last.at(-1)! + 1 === d) last.push(d);
    else runs.push([d]);
  }
  const byInput = [...runs].sort((a, b) => a[0]! - b[0]!);
  return {
    shape: byInput.map((r) => r.reduce((n, d) => n * s[d]!, 1)),
    perm: runs.map((r) => byInput.indexOf(r)),
  };
}

const transposeKernel: tf.KernelFunc = (args) => {
  const x = args.inputs['x'] as tf.TensorInfo;
  const { perm } = args.attrs as unknown as tf.TransposeAttrs;
  const somatcopy = state.blas?.somatcopy ?? null;
  if (somatcopy === null || x.dtype !== 'float32' || tf.util.sizeFromShape(x.shape) < TRANSPOSE_MIN_ELEMENTS) {
    return original('Transpose')(args);
  }
  const c = collapsePerm(x.shape, perm);
  const batched = c.perm.length === 3 && c.perm[0] === 0 && c.perm[1] === 2 && c.perm[2] === 1;
  if (!(c.perm.length === 2 && c.perm[0] === 1) && !batched) return original('Transpose')(args);
  const [batch, rows, cols] = batched ? (c.shape as [number, number, number]) : [1, c.shape[0]!, c.shape[1]!];
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput(
    perm.map((d) => x.shape[d]!),
    'float32',
  );
  const heap = new Float32Array(backend.wasm.HEAPU8.buffer);
  const xOff = heapOffset(backend, x);
  const oOff = heapOffset(backend, out);
  const n = rows * cols;
  for (let i = 0; i < batch; i++) {
    const from = xOff + i * n;
    const to = oOff + i * n;
    somatcopy(
      CBLAS_ROW_MAJOR,
      CBLAS_TRANS,
      rows,
      cols,
      1,
      heap.subarray(from, from + n),
      cols,
      heap.subarray(to, to + n),
      rows,
    );
  }
  return out;
};

const REPLACEMENTS: Record<(typeof KERNELS)[number], tf.KernelFunc> = {
  BatchMatMul: batchMatMul,
  _FusedMatMul: fusedMatMul,
  Transpose: transposeKernel,
};

/**
 * tf.env() flag naming the backend whose matMul takes transpose flags and batches at no extra cost:
 * 'wasm' while these kernels run on a BLAS, '' otherwise. @vla-lora/lora-core's `fastMatMul()` reads
 * it (same string) and then passes transpose flags instead of copying operands with tf.transpose.
 */
export const FAST_MATMUL_FLAG = 'VLA_FAST_MATMUL_BACKEND';

/**
 * Routes the wasm backend's BatchMatMul and _FusedMatMul through `blas` (null: back to XNNPACK for
 * every product). The replacement kernels are registered once; later calls only change the routing.
 * `minMacs`: products below it stay on XNNPACK.
 */
export function installBlasGemm(blas: BlasLibrary | null, minMacs = DEFAULT_BLAS_MIN_MACS): void {
  for (const name of KERNELS) {
    if (tf.getKernel(name, 'wasm') === undefined) continue;
    const replaced = replaceWasmKernel(name, REPLACEMENTS[name]);
    if (replaced !== undefined) originals.set(name, replaced);
  }
  state.blas = blas;
  state.minMacs = minMacs;
  state.threadsNow = null;
  tf.env().registerFlag(FAST_MATMUL_FLAG, () => '');
  tf.env().set(FAST_MATMUL_FLAG, blas === null ? '' : 'wasm');
}

/** The BLAS the wasm GEMM kernels use now (null: XNNPACK). */
export function activeBlas(): BlasLibrary | null {
  return state.blas;
}
