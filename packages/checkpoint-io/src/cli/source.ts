// A read-only tensor source over any file the CLI accepts: a safetensors file, a sharded set,
// a PEFT adapter directory, or a torch .pt/.bin state dict.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawTensor } from '../dtype/dtypes.js';
import { findAdapterWeights } from '../peft/weights.js';
import { openSafetensors, resolveSafetensorsPath } from '../safetensors/open.js';
import type { TensorInfo } from '../safetensors/header.js';
import { openPtSource } from './pt-source.js';
import type { GlobalsPolicy, PickleGlobalUse } from '../pt/torch/allowlist.js';

export interface TensorSource {
  /** What was opened, e.g. "safetensors", "sharded safetensors (3 files)", "torch zip". */
  kind: string;
  path: string;
  metadata: Record<string, string> | null;
  /** For pickle files: every global the pickle names (see GlobalsPolicy). */
  globals?: PickleGlobalUse[];
  list(): TensorInfo[];
  read(name: string): Promise<RawTensor>;
  /**
   * Streams one tensor's bytes in chunks of `chunkBytes` (a multiple of the itemsize). The same
   * buffer is reused for every chunk: consume each before pulling the next.
   */
  readChunks?(name: string, chunkBytes: number): AsyncIterable<Uint8Array>;
  close(): Promise<void>;
}

function isPt(path: string): boolean {
  return /\.(pt|pth|bin|ckpt)$/i.test(path);
}

/** Opens any checkpoint the CLI reads; pickles naming globals off the allow-list are refused unless `policy` says list. */
export async function openTensorSource(path: string, policy: GlobalsPolicy = {}): Promise<TensorSource> {
  const st = await stat(path);
  let target = path;
  if (st.isDirectory()) {
    // a PEFT adapter directory holds adapter_config.json + adapter_model.{safetensors,bin}
    try {
      await stat(join(path, 'adapter_config.json'));
      target = (await findAdapterWeights(path)).path;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  if (isPt(target)) return openPtSource(target, policy);
  const resolved = await resolveSafetensorsPath(target);
  const reader = await openSafetensors(resolved.path);
  return {
    kind: resolved.kind === 'sharded' ? 'sharded safetensors' : 'safetensors',
    path: resolved.path,
    metadata: reader.metadata,
    list: () => reader.list(),
    read: (name) => reader.read(name),
    async *readChunks(name: string, chunkBytes: number) {
      const total = reader.info(name).byteLength;
      const buf = new Uint8Array(Math.min(chunkBytes, Math.max(total, 1)));
      for (let off = 0; off < total; off += chunkBytes) {
        yield await reader.readBytes(name, off, Math.min(chunkBytes, total - off), buf);
      }
    },
    close: () => reader.close(),
  };
}
