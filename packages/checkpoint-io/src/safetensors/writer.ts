// Streaming safetensors writer: header first, then each tensor's bytes, one tensor at a time,
// into a temp file renamed into place (atomic). Layout identical to the Rust/Python library.
import { createAtomicFile } from '../fs/atomic.js';
import type { Dtype } from '../dtype/dtypes.js';
import { SafetensorsWriteError } from './errors.js';
import { entryByteLength, safetensorsOrder, serializeHeader } from './header.js';

/**
 * A tensor's bytes as consecutive chunks (for tensors streamed in pieces). The writer writes each
 * chunk before pulling the next, so a producer may reuse one buffer for every chunk.
 */
export interface ChunkedData {
  chunks: () => AsyncIterable<Uint8Array>;
}

/**
 * One tensor to write. `data` may be a thunk (only one tensor's bytes in memory at a time) or
 * chunked (only one chunk in memory at a time).
 */
export interface SafetensorsEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  data: Uint8Array | (() => Promise<Uint8Array>) | ChunkedData;
}

export interface WriteSafetensorsOptions {
  /** Written as `__metadata__`, keys in the given order. PEFT and transformers write `{ format: 'pt' }`. */
  metadata?: Record<string, string> | null;
  /**
   * `'safetensors'` (default): dtype (widest first) then name, exactly as the Rust library orders
   * a file, so our bytes equal Python's `save_file` for the same tensors and metadata.
   * `'given'`: keep the iteration order.
   */
  order?: 'safetensors' | 'given';
  /** Called after each tensor is written. */
  onProgress?: (p: { tensors: number; totalTensors: number; bytes: number; totalBytes: number; name: string }) => void;
}

/** Collects an (async) iterable of entries; data thunks are not called. */
export async function collectEntries(
  entries: Iterable<SafetensorsEntry> | AsyncIterable<SafetensorsEntry>,
): Promise<SafetensorsEntry[]> {
  const out: SafetensorsEntry[] = [];
  for await (const e of entries) out.push(e);
  return out;
}

/**
 * Writes a safetensors file atomically. Every entry's dtype/shape is needed for the header, so the
 * entries are collected first (thunks are not called until their turn); then data streams out one
 * tensor at a time. A data length that disagrees with dtype × shape aborts the write (the
 * destination is left untouched).
 */
export async function writeSafetensors(
  path: string,
  entries: Iterable<SafetensorsEntry> | AsyncIterable<SafetensorsEntry>,
  opts: WriteSafetensorsOptions = {},
): Promise<void> {
  const list = await collectEntries(entries);
  for (const e of list) entryByteLength(e, path);
  const ordered = (opts.order ?? 'safetensors') === 'safetensors' ? safetensorsOrder(list) : list;
  const { prefixAndHeader, dataLength, offsets } = serializeHeader(ordered, opts.metadata, path);
  const file = await createAtomicFile(path);
  try {
    await file.write(prefixAndHeader);
    let written = 0;
    for (let i = 0; i < ordered.length; i++) {
      const e = ordered[i]!;
      const [begin, end] = offsets[i]!;
      const mismatch = (got: string): SafetensorsWriteError =>
        new SafetensorsWriteError(
          path,
          `tensor ${JSON.stringify(e.name)}: ${e.dtype} ${JSON.stringify(e.shape)} needs ${end - begin} bytes but data has ${got}`,
        );
      if (typeof e.data === 'object' && !(e.data instanceof Uint8Array) && typeof e.data.chunks === 'function') {
        let got = 0;
        for await (const chunk of e.data.chunks()) {
          if (!(chunk instanceof Uint8Array))
            throw new SafetensorsWriteError(path, `tensor ${JSON.stringify(e.name)}: a chunk is not a Uint8Array`);
          got += chunk.byteLength;
          if (got > end - begin) throw mismatch(`more than that`);
          await file.write(chunk);
        }
        if (got !== end - begin) throw mismatch(String(got));
        written += got;
      } else {
        const data = typeof e.data === 'function' ? await e.data() : e.data;
        if (!(data instanceof Uint8Array))
          throw new SafetensorsWriteError(path, `tensor ${JSON.stringify(e.name)}: data is not a Uint8Array`);
        if (data.byteLength !== end - begin) throw mismatch(String(data.byteLength));
        await file.write(data);
        written += data.byteLength;
      }
      opts.onProgress?.({
        tensors: i + 1,
        totalTensors: ordered.length,
        bytes: written,
        totalBytes: dataLength,
        name: e.name,
      });
    }
  } catch (err) {
    await file.abort();
    throw err;
  }
  await file.commit();
}
