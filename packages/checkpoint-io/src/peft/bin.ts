// adapter_model.bin (torch.save of the adapter state dict) via the safe .pt reader: no code runs.
import type { RawTensor } from '../dtype/dtypes.js';
import { readPt } from '../pt/read.js';
import { PickleDict } from '../pt/values.js';
import { TorchTensor } from '../pt/tensor.js';
import { AdapterWeightsMissingError } from './errors.js';

/** Reads a torch-saved state dict of tensors (name -> RawTensor). */
export async function readAdapterBin(path: string): Promise<Map<string, RawTensor>> {
  const pt = await readPt(path);
  try {
    if (!(pt.root instanceof PickleDict)) {
      throw new AdapterWeightsMissingError(path, `${path} does not hold a state dict (a dict of tensors); it is not a PEFT adapter_model.bin`);
    }
    const out = new Map<string, RawTensor>();
    for (const [k, v] of pt.root.entries) {
      if (typeof k !== 'string' || !(v instanceof TorchTensor)) {
        throw new AdapterWeightsMissingError(path, `${path}: entry ${String(k)} is not a named tensor; it is not a PEFT adapter_model.bin`);
      }
      out.set(k, await v.toRaw());
    }
    return out;
  } finally {
    await pt.close();
  }
}
