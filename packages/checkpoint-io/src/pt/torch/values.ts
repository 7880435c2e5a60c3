// torch's additions to the pickle value model: torch.Size here, TorchTensor and TorchStorage in their own
// modules. The pickle layer's PickleValue includes them through declaration merging (see pickle/values.ts).
import type { TorchStorage } from './storage.js';
import type { TorchTensor } from './tensor.js';

/** torch.Size: a tuple of non-negative ints. */
export class TorchSize {
  constructor(readonly dims: number[]) {}
}

declare module '../pickle/values.js' {
  interface PickleValueExtensions {
    size: TorchSize;
    tensor: TorchTensor;
    storage: TorchStorage;
  }
}
