// adapter_model.bin (torch.save of the adapter state dict) via the safe .pt reader.
import type { RawTensor } from '../dtype/dtypes.js';
import { AdapterWeightsMissingError } from './errors.js';

/** Reads a torch-saved state dict of tensors (name -> RawTensor). */
export async function readAdapterBin(path: string): Promise<Map<string, RawTensor>> {
  throw new AdapterWeightsMissingError(path, `${path}: reading adapter_model.bin needs the .pt reader, which is not available yet; convert it with PEFT to safetensors`);
}
