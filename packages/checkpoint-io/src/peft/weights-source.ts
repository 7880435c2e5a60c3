// An adapter's weights from any opened safetensors reader (a file, a Blob, a URL); no node: imports.
import { numel, type RawTensor } from '../dtype/dtypes.js';
import { PickleDict } from '../pt/pickle/values.js';
import type { PtFile } from '../pt/pt-file.js';
import { TorchTensor } from '../pt/torch/tensor.js';
import type { SafetensorsReader } from '../safetensors/reader.js';
import { AdapterWeightsMissingError } from './errors.js';
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

/** Adapter weights from an opened torch-saved state dict (readPt / readPtSource); closes it on failure. */
export async function adapterWeightsFromPt(path: string, pt: PtFile): Promise<AdapterWeights> {
  try {
    if (!(pt.root instanceof PickleDict)) {
      throw new AdapterWeightsMissingError(
        path,
        `${path} does not hold a state dict (a dict of tensors); it is not a PEFT adapter_model.bin`,
      );
    }
    const entries: Array<[string, TorchTensor]> = [];
    for (const [k, v] of pt.root.entries) {
      if (typeof k !== 'string' || !(v instanceof TorchTensor)) {
        throw new AdapterWeightsMissingError(
          path,
          `${path}: entry ${String(k)} is not a named tensor; it is not a PEFT adapter_model.bin`,
        );
      }
      entries.push([k, v]);
    }
    return {
      path,
      format: 'bin',
      names: entries.map(([k]) => k),
      emptyNames: entries.filter(([, t]) => t.numel === 0).map(([k]) => k),
      async *tensors(): AsyncIterable<[string, RawTensor]> {
        for (const [k, t] of entries) yield [k, await t.toRaw()];
      },
      close: () => pt.close(),
    };
  } catch (err) {
    await pt.close();
    throw err;
  }
}
