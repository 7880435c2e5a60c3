// Reading a sharded checkpoint from disk (model.safetensors.index.json + model-0000k-of-0000n.safetensors)
// as one reader; the checks live in sharded-set.ts (shared with Blob and URL sources).
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ShardIndexError } from './errors.js';
import { SafetensorsFile } from './reader.js';
import { MAX_INDEX_BYTES, ShardedSet, openShards, parseShardIndex, type ShardIndex } from './sharded-set.js';

export type { ShardIndex } from './sharded-set.js';

/** Reads and validates an index file (shape, plain shard file names). */
export async function readShardIndex(indexPath: string): Promise<ShardIndex> {
  const { size } = await stat(indexPath);
  if (size > MAX_INDEX_BYTES)
    throw new ShardIndexError(indexPath, `index is ${size} bytes; refusing to parse more than 256 MB of JSON`);
  return parseShardIndex(await readFile(indexPath, 'utf8'), indexPath);
}

/** Several shard files behind one reader; every shard is validated and must agree with the index. */
export class ShardedSafetensors extends ShardedSet<SafetensorsFile> {
  static async open(indexPath: string): Promise<ShardedSafetensors> {
    const index = await readShardIndex(indexPath);
    const dir = dirname(indexPath);
    const named = await openShards(
      indexPath,
      index,
      (f) => SafetensorsFile.open(join(dir, f)),
      (err) => (err as NodeJS.ErrnoException).code === 'ENOENT',
    );
    return new ShardedSafetensors(indexPath, index, named);
  }
}
