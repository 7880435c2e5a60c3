// verifyAdapterAgainstBase: an adapter directory against a base checkpoint on disk (one
// model.safetensors, or a Hugging Face sharded index + shards), reading the base's HEADERS only —
// two small reads per shard (the 8-byte length and the JSON header), never tensor data.
import { dirname, join } from 'node:path';
import { openShardedSource } from '../safetensors/open-source.js';
import { resolveSafetensorsPath } from '../safetensors/open.js';
import { SafetensorsFile } from '../safetensors/reader.js';
import { SafetensorsSourceFile } from '../safetensors/source-reader.js';
import type { ByteSource } from '../source/byte-source.js';
import { openFileSource } from '../source/file.js';
import { assertAdapterFits, checkAdapterFit, type AdapterFitReport, type TensorShapeInfo } from './base-fit.js';
import { readAdapterConfig } from './config-fs.js';
import type { AdapterReport } from './verify.js';
import { verifyAdapter } from './verify-dir.js';
import { openAdapterWeights } from './weights.js';

export interface BaseHeaders {
  /** The file or index that was read. */
  path: string;
  kind: 'file' | 'sharded';
  shards: number;
  tensors: TensorShapeInfo[];
}

export interface BaseHeaderOptions {
  /** How to open a file for reading (default: the local file). Tests pass a read-counting spy. */
  openSource?: (path: string) => Promise<ByteSource>;
}

const isEnoent = (err: unknown): boolean => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * Tensor names, dtypes and shapes of a base checkpoint (a .safetensors file, an index.json, or a
 * directory holding either), from the headers only. Every shard named by the index is opened and
 * its header validated against the index; no tensor data is read.
 */
export async function readBaseHeaders(base: string, opts: BaseHeaderOptions = {}): Promise<BaseHeaders> {
  const openSource = opts.openSource ?? openFileSource;
  const { kind, path } = await resolveSafetensorsPath(base);
  if (kind === 'file') {
    const f = await SafetensorsSourceFile.open(await openSource(path));
    try {
      return { path, kind, shards: 1, tensors: f.list() };
    } finally {
      await f.close();
    }
  }
  const dir = dirname(path);
  const set = await openShardedSource(await openSource(path), (file) => openSource(join(dir, file)), isEnoent);
  try {
    return { path, kind, shards: set.shards.length, tensors: set.list() };
  } finally {
    await set.close();
  }
}

/** Names, dtypes and shapes of an adapter's tensors (the safetensors header; a .bin is streamed). */
async function adapterHeaders(dir: string): Promise<TensorShapeInfo[]> {
  const w = await openAdapterWeights(dir);
  try {
    if (w.format === 'safetensors') {
      const f = await SafetensorsFile.open(w.path);
      try {
        return f.list();
      } finally {
        await f.close();
      }
    }
    const out: TensorShapeInfo[] = [];
    for await (const [name, t] of w.tensors()) out.push({ name, dtype: t.dtype, shape: t.shape });
    return out;
  } finally {
    await w.close();
  }
}

export interface AdapterBaseReport {
  adapter: AdapterReport;
  base: Omit<BaseHeaders, 'tensors'> & { tensors: number };
  fit: AdapterFitReport;
}

/**
 * verifyAdapter(dir), then the fit against `base` from headers: adapter modules the base lacks,
 * base modules the config targets without weights, lora_A [r, in] / lora_B [out, r] against the
 * base weight [out, in], ranks against r / rank_pattern. Throws AdapterBaseMismatchError listing
 * every finding; reads no base tensor data. An adapter saved from a wrapper of the base (LeRobot's
 * PI0Policy: `base_model.model.model.<base name>`) is matched after removing that segment (a warning says so).
 */
export async function verifyAdapterAgainstBase(
  dir: string,
  base: string,
  opts: BaseHeaderOptions = {},
): Promise<AdapterBaseReport> {
  const adapter = await verifyAdapter(dir);
  const config = await readAdapterConfig(dir);
  const headers = await readBaseHeaders(base, opts);
  const fit = checkAdapterFit(config, await adapterHeaders(dir), headers.tensors, { allowWrapperPrefix: true });
  assertAdapterFits(dir, headers.path, fit);
  return {
    adapter,
    base: { path: headers.path, kind: headers.kind, shards: headers.shards, tensors: headers.tensors.length },
    fit,
  };
}
