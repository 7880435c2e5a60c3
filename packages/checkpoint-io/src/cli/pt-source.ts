// torch .pt/.bin files as a TensorSource: every tensor reachable from the unpickled object, named
// by its dotted path (a state dict's keys as they are), read lazily and in chunks.
import { DTYPE_ITEMSIZE } from '../dtype/dtypes.js';
import { readPt } from '../pt/read.js';
import type { GlobalsPolicy } from '../pt/torch/allowlist.js';
import { torchToSafetensorsDtype } from '../pt/torch/dtypes.js';
import { PtUnsupportedDtypeError } from '../pt/errors.js';
import type { TensorInfo } from '../safetensors/header.js';
import type { TensorSource } from './source.js';

export async function openPtSource(path: string, policy: GlobalsPolicy = {}): Promise<TensorSource> {
  const pt = await readPt(path, policy);
  try {
    const tensors = new Map(pt.tensors());
    const infos: TensorInfo[] = [];
    for (const [name, t] of tensors) {
      const dtype = torchToSafetensorsDtype(t.dtype);
      if (dtype === undefined)
        throw new PtUnsupportedDtypeError(
          `${path}: tensor ${name} is ${t.dtype}, which safetensors cannot hold; convert it in PyTorch first`,
        );
      infos.push({ name, dtype, shape: [...t.shape], byteLength: t.numel * DTYPE_ITEMSIZE[dtype] });
    }
    const get = (name: string) => {
      const t = tensors.get(name);
      if (!t) throw new PtUnsupportedDtypeError(`${path}: no tensor named ${JSON.stringify(name)}`);
      return t;
    };
    return {
      kind: `torch ${pt.format}`,
      path,
      metadata: null,
      globals: [...pt.globals],
      list: () => infos.map((i) => ({ ...i, shape: [...i.shape] })),
      read: (name) => get(name).toRaw(),
      async *readChunks(name: string, chunkBytes: number) {
        const t = get(name);
        const per = Math.max(1, Math.floor(chunkBytes / t.itemsize));
        for (let start = 0; start < t.numel; start += per)
          yield await t.readElements(start, Math.min(per, t.numel - start));
      },
      close: () => pt.close(),
    };
  } catch (err) {
    await pt.close();
    throw err;
  }
}
