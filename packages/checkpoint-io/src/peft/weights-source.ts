// An adapter's weights from any opened safetensors reader (a file, a Blob, a URL); no node: imports.
import { numel } from '../dtype/dtypes.js';
import type { SafetensorsReader } from '../safetensors/reader.js';
import type { AdapterWeights } from './weights.js';

/** Wraps an opened safetensors reader as adapter weights (names up front, tensors streamed); closes it on close(). */
export function adapterWeightsFromReader(path: string, reader: SafetensorsReader): AdapterWeights {
  const list = reader.list();
  return {
    path,
    format: 'safetensors',
    names: list.map((t) => t.name),
    emptyNames: list.filter((t) => numel(t.shape) === 0).map((t) => t.name),
    tensors: () => reader.tensors(),
    close: () => reader.close(),
  };
}
