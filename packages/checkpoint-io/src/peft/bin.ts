// adapter_model.bin (torch.save of the adapter state dict) via the safe .pt reader: no code runs.
import type { RawTensor } from '../dtype/dtypes.js';
import { readPt } from '../pt/read.js';
import { PickleDict } from '../pt/pickle/values.js';
import { TorchTensor } from '../pt/torch/tensor.js';
import { AdapterWeightsMissingError } from './errors.js';
import type { AdapterWeights } from './weights.js';

/** Opens a torch-saved state dict of tensors; tensors are read one at a time when iterated. */
export async function openAdapterBin(path: string): Promise<AdapterWeights> {
  const pt = await readPt(path);
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
