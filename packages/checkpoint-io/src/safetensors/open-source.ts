// Opening safetensors from where a browser (or any non-file caller) has them: a Blob/File, a set of
// files (a dropped folder), or a URL — a single file or a sharded index whose shards sit beside it.
import { blobSource } from '../source/blob.js';
import type { ByteSource } from '../source/byte-source.js';
import { SourceHttpError } from '../source/errors.js';
import { openUrlSource, type UrlSourceOptions } from '../source/url.js';
import { SafetensorsError, ShardIndexError } from './errors.js';
import type { SafetensorsReader } from './reader.js';
import { MAX_INDEX_BYTES, ShardedSet, parseShardIndex } from './sharded-set.js';
import { SafetensorsSourceFile } from './source-reader.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Reads a whole (small) source as UTF-8 text, refusing more than `limit` bytes. */
export async function readSourceText(source: ByteSource, limit = MAX_INDEX_BYTES): Promise<string> {
  if (source.size > limit)
    throw new ShardIndexError(
      source.name,
      `is ${source.size} bytes; refusing to parse more than ${limit} bytes as JSON`,
    );
  try {
    return utf8.decode(await source.read(0, source.size));
  } catch (err) {
    if (err instanceof TypeError) throw new ShardIndexError(source.name, 'is not valid UTF-8', { cause: err });
    throw err;
  }
}

/** Opens a sharded set from its index (a ByteSource) and a way to open each shard by file name. */
export async function openShardedSource(
  index: ByteSource,
  openShard: (file: string) => Promise<ByteSource>,
  isMissing?: (err: unknown) => boolean,
): Promise<ShardedSet<SafetensorsSourceFile>> {
  let text: string;
  try {
    text = await readSourceText(index);
  } finally {
    await index.close();
  }
  const parsed = parseShardIndex(text, index.name);
  return ShardedSet.fromIndex(
    index.name,
    parsed,
    async (file) => SafetensorsSourceFile.open(await openShard(file)),
    isMissing,
  );
}

/** Opens one safetensors Blob/File (validating its header; tensors are sliced from the Blob on demand). */
export function openSafetensorsBlob(blob: Blob, name?: string): Promise<SafetensorsSourceFile> {
  return SafetensorsSourceFile.open(blobSource(blob, name));
}

/** A file of a dropped folder: its name (or relative path — only the last segment counts) and its bytes. */
export type NamedBlob = { name: string; blob: Blob };

function lastSegment(name: string): string {
  return name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
}

/**
 * Picks and opens the safetensors of a set of files as resolveSafetensorsPath does for a directory:
 * `model.safetensors.index.json`, `model.safetensors`, the only index, or the only `.safetensors` file.
 */
export async function openSafetensorsFiles(files: readonly NamedBlob[]): Promise<SafetensorsReader> {
  const byName = new Map(files.map((f) => [lastSegment(f.name), f.blob]));
  const names = [...byName.keys()];
  const indexes = names.filter((n) => n.endsWith('.safetensors.index.json'));
  const singles = names.filter((n) => n.endsWith('.safetensors'));
  const pick = names.includes('model.safetensors.index.json')
    ? 'model.safetensors.index.json'
    : names.includes('model.safetensors')
      ? 'model.safetensors'
      : indexes.length === 1
        ? indexes[0]!
        : indexes.length === 0 && singles.length === 1
          ? singles[0]!
          : null;
  if (pick === null) {
    throw new SafetensorsError(
      'files',
      singles.length === 0 && indexes.length === 0
        ? 'no .safetensors file or index among them'
        : `${singles.length} .safetensors files and ${indexes.length} index files; pick the one to open`,
    );
  }
  if (!pick.endsWith('.index.json')) return openSafetensorsBlob(byName.get(pick)!, pick);
  class MissingShard extends Error {}
  return openShardedSource(
    blobSource(byName.get(pick)!, pick),
    async (file) => {
      const b = byName.get(file);
      if (!b) throw new MissingShard(file);
      return blobSource(b, file);
    },
    (err) => err instanceof MissingShard,
  );
}

/**
 * Opens a safetensors URL with Range requests: header first, tensors on demand. A URL ending in
 * `.index.json` opens the sharded set, its shards resolved beside the index.
 */
export async function openSafetensorsUrl(url: string | URL, opts: UrlSourceOptions = {}): Promise<SafetensorsReader> {
  const href = String(url);
  const source = await openUrlSource(href, opts);
  if (!new URL(href).pathname.endsWith('.index.json')) return SafetensorsSourceFile.open(source);
  return openShardedSource(
    source,
    (file) => openUrlSource(new URL(file, href), opts),
    (err) => err instanceof SourceHttpError && err.status === 404,
  );
}
