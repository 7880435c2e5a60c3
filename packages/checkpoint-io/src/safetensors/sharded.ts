// Reading a sharded checkpoint (model.safetensors.index.json + model-0000k-of-0000n.safetensors)
// as one reader, the way transformers' load_sharded_checkpoint resolves it.
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { RawTensor } from '../dtype/dtypes.js';
import { ShardIndexError, TensorNotFoundError } from './errors.js';
import type { TensorInfo } from './header.js';
import { SafetensorsFile, type SafetensorsReader } from './reader.js';

/** The HF index file: `{ "metadata": { "total_size": N, ... }, "weight_map": { name: shard } }`. */
export interface ShardIndex {
  metadata: Record<string, unknown>;
  weight_map: Record<string, string>;
}

const MAX_INDEX_BYTES = 256 * 1024 * 1024;

/** Reads and validates an index file (shape, plain shard file names). */
export async function readShardIndex(indexPath: string): Promise<ShardIndex> {
  const { size } = await stat(indexPath);
  if (size > MAX_INDEX_BYTES)
    throw new ShardIndexError(indexPath, `index is ${size} bytes; refusing to parse more than 256 MB of JSON`);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (err) {
    throw new ShardIndexError(indexPath, `not valid JSON (${(err as Error).message})`, { cause: err });
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    throw new ShardIndexError(indexPath, 'index is not a JSON object');
  const { metadata, weight_map: weightMap } = json as Record<string, unknown>;
  if (weightMap === null || typeof weightMap !== 'object' || Array.isArray(weightMap)) {
    throw new ShardIndexError(indexPath, 'index has no "weight_map" object');
  }
  for (const [name, file] of Object.entries(weightMap as Record<string, unknown>)) {
    if (
      typeof file !== 'string' ||
      file === '' ||
      file !== basename(file) ||
      file === '.' ||
      file === '..' ||
      file.includes('\\')
    ) {
      throw new ShardIndexError(
        indexPath,
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

/** Several shard files behind one reader; every shard is validated and must agree with the index. */
export class ShardedSafetensors implements SafetensorsReader {
  private readonly where: Map<string, SafetensorsFile>;
  private readonly map: Map<string, string>;
  private readonly order: TensorInfo[];

  private constructor(
    readonly indexPath: string,
    readonly index: ShardIndex,
    readonly shards: SafetensorsFile[],
  ) {
    this.where = new Map();
    this.map = new Map(Object.entries(index.weight_map));
    this.order = [];
    for (const shard of shards) {
      const file = basename(shard.path);
      for (const info of shard.list()) {
        if (this.map.get(info.name) !== file) continue;
        this.where.set(info.name, shard);
        this.order.push(info);
      }
    }
  }

  static async open(indexPath: string): Promise<ShardedSafetensors> {
    const index = await readShardIndex(indexPath);
    const dir = dirname(indexPath);
    const weightMap = new Map(Object.entries(index.weight_map));
    const files = [...new Set(weightMap.values())].sort();
    const shards: SafetensorsFile[] = [];
    try {
      for (const f of files) {
        try {
          shards.push(await SafetensorsFile.open(join(dir, f)));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
          throw new ShardIndexError(indexPath, `index names missing shard ${f}; the download or save is incomplete`, {
            cause: err,
          });
        }
      }
      for (const [name, file] of weightMap) {
        const shard = shards[files.indexOf(file)]!;
        if (!shard.has(name))
          throw new ShardIndexError(
            indexPath,
            `index maps ${JSON.stringify(name)} to ${file}, which does not contain it`,
          );
      }
      for (const shard of shards) {
        for (const info of shard.list()) {
          const mapped = weightMap.get(info.name);
          if (mapped === undefined) {
            throw new ShardIndexError(
              indexPath,
              `${basename(shard.path)} holds ${JSON.stringify(info.name)}, which the index does not list; the index is stale`,
            );
          }
        }
      }
      const declared = index.metadata['total_size'];
      if (typeof declared === 'number') {
        let total = 0;
        for (const s of shards)
          for (const t of s.list()) if (weightMap.get(t.name) === basename(s.path)) total += t.byteLength;
        if (declared !== total) {
          throw new ShardIndexError(
            indexPath,
            `metadata.total_size is ${declared} but the shards hold ${total} bytes of tensors; the index is stale`,
          );
        }
      }
      return new ShardedSafetensors(indexPath, index, shards);
    } catch (err) {
      await Promise.all(shards.map((s) => s.close()));
      throw err;
    }
  }

  get metadata(): Record<string, string> | null {
    return this.shards[0]?.metadata ?? null;
  }

  list(): TensorInfo[] {
    return this.order.map((t) => ({ ...t, shape: [...t.shape] }));
  }

  has(name: string): boolean {
    return this.where.has(name);
  }

  private shardOf(name: string): SafetensorsFile {
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
    await Promise.all(this.shards.map((s) => s.close()));
  }
}
