// An adapter's weights file, opened for streaming: names are known up front, tensors are read one
// at a time (an r=64 adapter of a 7B model is over a gigabyte; nothing needs it all at once).
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawTensor } from '../dtype/dtypes.js';
import { SafetensorsFile } from '../safetensors/reader.js';
import { openAdapterBin } from './bin.js';
import { AdapterWeightsMissingError } from './errors.js';
import { adapterWeightsFromReader } from './weights-source.js';

export const ADAPTER_SAFETENSORS_NAME = 'adapter_model.safetensors';
export const ADAPTER_BIN_NAME = 'adapter_model.bin';

export interface AdapterWeights {
  path: string;
  format: 'safetensors' | 'bin';
  /** On-disk tensor names, in file order. */
  names: string[];
  /** Tensors with zero elements. */
  emptyNames: string[];
  tensors(): AsyncIterable<[string, RawTensor]>;
  close(): Promise<void>;
}

/** Where an adapter's weights are and in which format (safetensors preferred, as PEFT does). */
export async function findAdapterWeights(dir: string): Promise<{ path: string; format: 'safetensors' | 'bin' }> {
  for (const [name, format] of [
    [ADAPTER_SAFETENSORS_NAME, 'safetensors'],
    [ADAPTER_BIN_NAME, 'bin'],
  ] as const) {
    try {
      const st = await stat(join(dir, name));
      if (st.isFile()) return { path: join(dir, name), format };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  throw new AdapterWeightsMissingError(
    dir,
    `${dir} has neither ${ADAPTER_SAFETENSORS_NAME} nor ${ADAPTER_BIN_NAME}; if training ran under DeepSpeed ZeRO the weights are in its global_step*/ shards: npx @vla-lora/zero-merge extract-adapter <ckpt-dir> <out-dir>`,
  );
}

/** Opens the weights file of an adapter directory (validated header / pickle; no tensor data read). */
export async function openAdapterWeights(dir: string): Promise<AdapterWeights> {
  const { path, format } = await findAdapterWeights(dir);
  if (format === 'bin') return openAdapterBin(path);
  return adapterWeightsFromReader(path, await SafetensorsFile.open(path));
}

/** Reads every tensor of the weights file (on-disk names, adapter name stripped). */
export async function readAdapterWeights(
  dir: string,
): Promise<{ path: string; format: 'safetensors' | 'bin'; tensors: Map<string, RawTensor> }> {
  const w = await openAdapterWeights(dir);
  try {
    const tensors = new Map<string, RawTensor>();
    for await (const [name, t] of w.tensors()) tensors.set(name, t);
    return { path: w.path, format: w.format, tensors };
  } finally {
    await w.close();
  }
}
