// A read-only tensor source over any file the CLI accepts: a safetensors file, a sharded set,
// a PEFT adapter directory, or a torch .pt/.bin state dict.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { RawTensor } from '../dtype/dtypes.js';
import { findAdapterWeights } from '../peft/adapter.js';
import { openSafetensors, resolveSafetensorsPath } from '../safetensors/open.js';
import type { TensorInfo } from '../safetensors/header.js';
import { openPtSource } from './pt-source.js';

export interface TensorSource {
  /** What was opened, e.g. "safetensors", "sharded safetensors (3 files)", "torch zip". */
  kind: string;
  path: string;
  metadata: Record<string, string> | null;
  list(): TensorInfo[];
  read(name: string): Promise<RawTensor>;
  close(): Promise<void>;
}

function isPt(path: string): boolean {
  return /\.(pt|pth|bin|ckpt)$/i.test(path);
}

export async function openTensorSource(path: string): Promise<TensorSource> {
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
  if (isPt(target)) return openPtSource(target);
  const resolved = await resolveSafetensorsPath(target);
  const reader = await openSafetensors(resolved.path);
  return {
    kind: resolved.kind === 'sharded' ? 'sharded safetensors' : 'safetensors',
    path: resolved.path,
    metadata: reader.metadata,
    list: () => reader.list(),
    read: (name) => reader.read(name),
    close: () => reader.close(),
  };
}
