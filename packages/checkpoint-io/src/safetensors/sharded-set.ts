// Several safetensors shards behind one reader, checked against their index
// (model.safetensors.index.json) the way transformers' load_sharded_checkpoint resolves it. Pure: the
// caller says how to open a shard by file name (a local path, a File of a dropped folder, a URL).
import type { RawTensor } from '../dtype/dtypes.js';
import { ShardIndexError, TensorNotFoundError } from './errors.js';
import type { TensorInfo } from './header.js';
import type { SafetensorsReader } from './reader.js';

/** The HF index file: `{ "metadata": { "total_size": N, ... }, "weight_map": { name: shard } }`. */
export interface ShardIndex {
  metadata: Record<string, unknown>;
  weight_map: Record<string, string>;
}

/** Largest index text parsed. */
export const MAX_INDEX_BYTES = 256 * 1024 * 1024;

/** Parses and validates an index's text (shape, plain shard file names). `where` names it in errors. */
export function parseShardIndex(text: string, where: string): ShardIndex {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ShardIndexError(where, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new ShardIndexError(where, 'index is not a JSON object');
  const { metadata, weight_map: weightMap } = json as Record<string, unknown>;
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw new ShardIndexError(where, 'index has no "weight_map" object');
  }
  for (const [name, file] of Object.entries(weightMap as Record<string, unknown>)) {
    if (
      typeof file !== 'string' ||
      file === '' ||
      file.includes('/') ||
      file === '.' ||
      file === '..' ||
      file.includes('\\')
    ) {
      throw new ShardIndexError(
        where,
        `weight_map[${JSON.stringify(name)}] = ${JSON.stringify(file)} is not a plain file name beside the index`,
      );
    }
  }
  const meta =
    metadata !== null && typeof metadata === 'object' && !Array.isArray(metadata)
      ? (metadata as Record<string, unknown>)
      : {};
  return { metadata: meta, weight_map: weightMap as Record<string, string> };
}

/** One opened shard and the file name the index calls it by. */
export interface NamedShard<R extends SafetensorsReader = SafetensorsReader> {
  file: string;
  reader: R;
}

/**
 * Opens every shard the index names (sorted by file name) and checks that index and shards agree: every
 * shard present, every mapped tensor in its shard, no unlisted tensor, metadata.total_size right. On any
 * failure the shards opened so far are closed. `isMissing(err)` tells a missing shard from other errors.
 */
export async function openShards<R extends SafetensorsReader>(
  where: string,
  index: ShardIndex,
  openShard: (file: string) => Promise<R>,
  isMissing: (err: unknown) => boolean = () => false,
): Promise<NamedShard<R>[]> {
  const weightMap = new Map(Object.entries(index.weight_map));
  const files = [...new Set(weightMap.values())].sort();
  const shards: NamedShard<R>[] = [];
  try {
    for (const file of files) {
      try {
        shards.push({ file, reader: await openShard(file) });
      } catch (err) {
        if (!isMissing(err)) throw err;
        throw new ShardIndexError(where, `index names missing shard ${file}; the download or save is incomplete`, {
          cause: err,
        });
      }
    }
    for (const [name, file] of weightMap) {
      const shard = shards[files.indexOf(file)]!;
      if (!shard.reader.has(name))
        throw new ShardIndexError(where, `index maps ${JSON.stringify(name)} to ${file}, which does not contain it`);
    }
    for (const { file, reader } of shards) {
      for (const info of reader.list()) {
        if (weightMap.get(info.name) === undefined) {
          throw new ShardIndexError(
            where,
            `${file} holds ${JSON.stringify(info.name)}, which the index does not list; the index is stale`,
          );
        }
      }
    }
    const declared = index.metadata['total_size'];
    if (typeof declared === 'number') {
      let total = 0;
      for (const { file, reader } of shards)
        for (const t of reader.list()) if (weightMap.get(t.name) === file) total += t.byteLength;
      if (declared !== total) {
        throw new ShardIndexError(
          where,
          `metadata.total_size is ${declared} but the shards hold ${total} bytes of tensors; the index is stale`,
        );
      }
    }
    return shards;
  } catch (err) {
    await Promise.all(shards.map((s) => s.reader.close()));
    throw err;
  }
}

/** Validated shards behind one reader (see openShards). */
export class ShardedSet<R extends SafetensorsReader = SafetensorsReader> implements SafetensorsReader {
  private readonly where: Map<string, R>;
  private readonly order: TensorInfo[];

  constructor(
    /** What errors call the set (the index's path or URL). */
    readonly indexPath: string,
    readonly index: ShardIndex,
    readonly named: NamedShard<R>[],
  ) {
    this.where = new Map();
    this.order = [];
    const map = new Map(Object.entries(index.weight_map));
    for (const { file, reader } of named) {
      for (const info of reader.list()) {
        if (map.get(info.name) !== file) continue;
        this.where.set(info.name, reader);
        this.order.push(info);
      }
    }
  }

  /** Opens and validates a set (see openShards). */
  static async fromIndex<R extends SafetensorsReader>(
    where: string,
    index: ShardIndex,
    openShard: (file: string) => Promise<R>,
    isMissing?: (err: unknown) => boolean,
  ): Promise<ShardedSet<R>> {
    return new ShardedSet(where, index, await openShards(where, index, openShard, isMissing));
  }

  get shards(): R[] {
    return this.named.map((s) => s.reader);
  }

  get metadata(): Record<string, string> | null {
    return this.named[0]?.reader.metadata ?? null;
  }

  list(): TensorInfo[] {
    return this.order.map((t) => ({ ...t, shape: [...t.shape] }));
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  private shardOf(name: string): R {
    const s = this.where.get(name);
    if (!s) throw new TensorNotFoundError(this.indexPath, name);
    return s;
  }

  info(name: string): TensorInfo {
    return this.shardOf(name).info(name);
  }

  read(name: string): Promise<RawTensor> {
    return this.shardOf(name).read(name);
  }

  readFloat32(name: string): Promise<Float32Array> {
    return this.shardOf(name).readFloat32(name);
  }

  readBytes(name: string, start: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    return this.shardOf(name).readBytes(name, start, length, into);
  }

  async *tensors(): AsyncIterable<[string, RawTensor]> {
    for (const t of this.order) yield [t.name, await this.read(t.name)];
  }

  async close(): Promise<void> {
    await Promise.all(this.named.map((s) => s.reader.close()));
  }
}
