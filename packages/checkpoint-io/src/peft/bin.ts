// adapter_model.bin (torch.save of the adapter state dict) via the safe .pt reader: no code runs.
import { readPt } from '../pt/read.js';
import type { AdapterWeights } from './weights.js';
import { adapterWeightsFromPt } from './weights-source.js';

/** Opens a torch-saved state dict of tensors; tensors are read one at a time when iterated. */
export async function openAdapterBin(path: string): Promise<AdapterWeights> {
  return adapterWeightsFromPt(path, await readPt(path));
}
