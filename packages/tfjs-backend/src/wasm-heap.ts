// What this package's own wasm kernels (BLAS GEMM, Tanh, the GELU gate, Slice/Unpack/SplitV, Identity)
// need of tfjs-backend-wasm 4.22 (pinned): the slice of its BackendWasm that reads and writes tensors in
// place on the heap, and one way to put a kernel in place of the backend's own.
import * as tf from '@tensorflow/tfjs-core';

/** The slice of tfjs-backend-wasm's BackendWasm the kernels of this package use. */
export interface WasmHeapBackend {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object): boolean;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
  wasm: { HEAPU8: Uint8Array; asm?: { memory?: unknown } };
}

/**
 * Byte offset of `t`'s data in the wasm heap. Views over the heap must be taken after the last
 * `makeOutput`: allocating may grow (and so replace) the heap's buffer.
 */
export function heapByteOffset(backend: WasmHeapBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (data === undefined) throw new Error('wasm kernel: tensor not on the wasm backend');
  return data.memoryOffset;
}

/**
 * Registers `kernelFunc` as the wasm backend's `kernelName` (keeping the replaced config's other
 * fields) and returns the config it replaced: undefined when there was none, or when `kernelFunc`
 * is registered already (calling twice changes nothing).
 */
export function replaceWasmKernel(kernelName: string, kernelFunc: tf.KernelFunc): tf.KernelConfig | undefined {
  const replaced = tf.getKernel(kernelName, 'wasm');
  if (replaced?.kernelFunc === kernelFunc) return undefined;
  if (replaced !== undefined) tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel({ ...replaced, kernelName, backendName: 'wasm', kernelFunc });
  return replaced;
}
