// Kernel overrides for tfjs-backend-wasm 4.22 (pinned).
import * as tf from '@tensorflow/tfjs-core';
import { replaceWasmKernel, type WasmHeapBackend } from './wasm-heap.js';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * tfjs-backend-wasm's Identity kernel copies its input into a new buffer. tfjs-core runs Identity
 * for every `clone()`, and clones every tensor a kernel saves for its gradient, so in training each
 * saved input is held twice. Tensors are immutable, so the clone can share the buffer and count a
 * reference, as tfjs-backend-cpu's Identity and tfjs-backend-wasm's own Reshape do.
 */
export function shareIdentityBuffers(): void {
  const config = tf.getKernel('Identity', 'wasm');
  if (config === undefined) return;
  replaceWasmKernel('Identity', ({ inputs, backend }) => {
    const x = inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return config.kernelFunc({ inputs, backend, attrs: {} }) as tf.TensorInfo;
    (backend as unknown as RefCountingBackend).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  });
}

interface CloningEngine {
  backendName: string | null;
  backend: RefCountingBackend;
  state: { activeScope: { name: string }; tensorInfo: Map<object, { backend: unknown }> };
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend: unknown): tf.Tensor;
  addTapeNode(
    kernelName: string,
    inputs: tf.NamedTensorMap,
    outputs: tf.Tensor[],
    gradientsFunc: (dy: tf.Tensor) => Record<string, () => tf.Tensor>,
    saved: tf.Tensor[],
    attrs: tf.NamedAttrMap,
  ): void;
}

/**
 * tfjs-core's `clone()` (run for every tensor a kernel or a customGrad saves for its gradient: ~360
 * per tiny pi0 step) dispatches an Identity kernel, which itself records a gradient node, and then
 * records its own. On wasm, where Identity only shares the buffer (above), the clone here shares it
 * directly and records only clone's own node (the same gradient: dy cast to float32): the same
 * tensors and gradients, one kernel dispatch and one tape node fewer per saved tensor. Other backends,
 * strings and tensors of another backend take tfjs-core's path.
 */
export function cloneWithoutIdentityKernel(): void {
  const engine = tf.engine() as unknown as CloningEngine;
  const original = engine.clone as CloningEngine['clone'] & { shared?: boolean };
  if (original.shared) return;
  const clone = function (this: CloningEngine, x: tf.Tensor): tf.Tensor {
    const info = this.state.tensorInfo.get(x.dataId);
    if (this.backendName !== 'wasm' || x.dtype === 'string' || info === undefined || info.backend !== this.backend)
      return original.call(this, x);
    this.backend.incRef(x.dataId);
    const y = this.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, this.backend);
    const grad = (dy: tf.Tensor) => ({ x: () => tf.cast(dy, 'float32') });
    this.addTapeNode(this.state.activeScope.name, { x }, [y], grad, [], {});
    return y;
  };
  engine.clone = Object.assign(clone, { shared: true });
}

/** x[begin : begin + size] copied out of the wasm heap directly (no copy of the whole input). */
function sliceFromHeap(x: tf.TensorInfo, begin: number[], size: number[], backend: WasmHeapBackend): tf.TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  const n = tf.util.sizeFromShape(size);
  if (n === 0) return out;
  // views after makeOutput: growing the heap there detaches views taken before
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  const strides = tf.util.computeStrides(x.shape);
  if (tf.slice_util.isSliceContinous(x.shape, begin, size)) {
    const off = tf.slice_util.computeFlatOffset(begin, strides);
    ov.set(xv.subarray(off, off + n));
    return out;
  }
  // rows of the innermost axis, walked with an odometer over the outer axes
  const rank = size.length;
  const len = size[rank - 1]!;
  const idx = new Array<number>(rank - 1).fill(0);
  let base = tf.slice_util.computeFlatOffset(begin, strides);
  for (let o = 0; o < n; o += len) {
    if (len >= 64) ov.set(xv.subarray(base, base + len), o);
    else for (let k = 0; k < len; k++) ov[o + k] = xv[base + k]!;
    for (let d = rank - 2; d >= 0; d--) {
      base += strides[d]!;
      if (++idx[d]! < size[d]!) break;
      base -= size[d]! * strides[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/**
 * tfjs-backend-wasm 4.22's Slice reads its input with `readSync`, which copies the WHOLE input out of
 * the heap on every call; Unpack and SplitV call that slice once per output, so unstacking n pieces
 * copies the input n times (O(n * size): 0.4 s per step of a wide Gemma's attention). These kernels
 * read the input in place from the heap instead; strings and anything unusual go to the originals.
 */
export function sliceWithoutInputCopies(): void {
  const original = {
    Slice: tf.getKernel('Slice', 'wasm'),
    Unpack: tf.getKernel('Unpack', 'wasm'),
    SplitV: tf.getKernel('SplitV', 'wasm'),
  };
  if (original.Slice === undefined || original.Unpack === undefined || original.SplitV === undefined) return;
  if ((original.Slice.kernelFunc as { fromHeap?: boolean }).fromHeap) return; // already installed
  const fallback =
    (name: 'Slice' | 'Unpack' | 'SplitV'): tf.KernelFunc =>
    (args) =>
      original[name]!.kernelFunc(args);
  const slice: tf.KernelFunc = (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return fallback('Slice')(args);
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size?: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x, begin, size) as [number[], number[]];
    return sliceFromHeap(x, b, s, args.backend as unknown as WasmHeapBackend);
  };
  Object.assign(slice, { fromHeap: true });
  const unpack: tf.KernelFunc = (args) => {
    const value = args.inputs['value'] as tf.TensorInfo;
    if (value.dtype === 'string') return fallback('Unpack')(args);
    const rank = value.shape.length;
    let axis = (args.attrs as unknown as { axis: number }).axis;
    if (axis < 0) axis += rank;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const begin = new Array<number>(rank).fill(0);
    const size = value.shape.slice();
    size[axis] = 1;
    const outs: tf.TensorInfo[] = [];
    for (let i = 0; i < value.shape[axis]!; i++) {
      begin[axis] = i;
      const t = sliceFromHeap(value, begin, size, args.backend as unknown as WasmHeapBackend);
      outs.push({ dataId: t.dataId, dtype: t.dtype, shape: outShape });
    }
    return outs;
  };
  const splitV: tf.KernelFunc = (args) => {
    const x = args.inputs['x'] as tf.TensorInfo;
    if (x.dtype === 'string') return fallback('SplitV')(args);
    const { numOrSizeSplits, axis } = args.attrs as unknown as { numOrSizeSplits: number | number[]; axis: number };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = x.shape.slice();
      size[ax] = s;
      const t = sliceFromHeap(x, begin, size, args.backend as unknown as WasmHeapBackend);
      begin[ax]! += s;
      return t;
    });
  };
  for (const [kernelName, kernelFunc] of [
    ['Slice', slice],
    ['Unpack', unpack],
    ['SplitV', splitV],
  ] as const)
    replaceWasmKernel(kernelName, kernelFunc);
}
