// Sharded output as transformers' save_pretrained lays it out: model-0000k-of-0000n.safetensors
// plus model.safetensors.index.json ({"metadata": {"total_size": N}, "weight_map": {...}},
// indent 2, keys sorted, ASCII-escaped, trailing newline). One shard -> plain model.safetensors.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import { SafetensorsWriteError } from './errors.js';
import { entryByteLength } from './header.js';
import { collectEntries, writeSafetensors, type SafetensorsEntry, type WriteSafetensorsOptions } from './writer.js';

export interface WriteShardedOptions {
  /** Largest shard in bytes of tensor data (a tensor bigger than this gets a shard of its own). */
  maxShardSize: number;
  metadata?: Record<string, string> | null;
  /** File stem: `model` gives model-00001-of-00002.safetensors and model.safetensors.index.json. */
  prefix?: string;
  onProgress?: WriteSafetensorsOptions['onProgress'];
}

export interface ShardedWriteResult {
  /** Shard file names, in order. */
  files: string[];
  /** Index file name, or null when everything fit in one file. */
  index: string | null;
  totalSize: number;
}

/** Groups entries greedily in the given order, as huggingface_hub's split_state_dict_into_shards does. */
export function planShards<T extends { name: string; size: number }>(items: readonly T[], maxShardSize: number): T[][] {
  const shards: T[][] = [];
  let current: T[] = [];
  let currentSize = 0;
  for (const it of items) {
    if (it.size > maxShardSize) {
      shards.push([it]);
      continue;
    }
    if (currentSize + it.size > maxShardSize && current.length > 0) {
      shards.push(current);
      current = [];
      currentSize = 0;
    }
    current.push(it);
    currentSize += it.size;
  }
  if (current.length > 0) shards.push(current);
  return shards;
}

function pythonJson(value: unknown): string {
  // json.dumps(indent=2, sort_keys=True) with ensure_ascii: same layout as JSON.stringify(…, 2)
  // once keys are sorted and non-ASCII is escaped.
  const sortKeys = (v: unknown): unknown => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(o)
        .sort()
        .map((k) => [k, sortKeys(o[k])]),
    );
  };
  return JSON.stringify(sortKeys(value), null, 2).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * Writes `entries` into `dir` as shards of at most `maxShardSize` bytes and an index. Shards are
 * written (atomically) first, the index last, then stale shards of an earlier save are deleted.
 */
export async function writeSafetensorsSharded(
  dir: string,
  entries: Iterable<SafetensorsEntry> | AsyncIterable<SafetensorsEntry>,
  opts: WriteShardedOptions,
): Promise<ShardedWriteResult> {
  const prefix = opts.prefix ?? 'model';
  if (!Number.isSafeInteger(opts.maxShardSize) || opts.maxShardSize <= 0) {
    throw new SafetensorsWriteError(dir, `maxShardSize must be a positive integer, got ${opts.maxShardSize}`);
  }
  const list = await collectEntries(entries);
  const sized = list.map((e) => ({ name: e.name, size: entryByteLength(e, dir), entry: e }));
  const names = new Set<string>();
  for (const s of sized) {
    if (names.has(s.name)) throw new SafetensorsWriteError(dir, `tensor name ${JSON.stringify(s.name)} appears twice`);
    names.add(s.name);
  }
  const plan = planShards(sized, opts.maxShardSize);
  const totalSize = sized.reduce((a, s) => a + s.size, 0);
  const n = Math.max(plan.length, 1);
  const files =
    n === 1
      ? [`${prefix}.safetensors`]
      : plan.map((_, i) => `${prefix}-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`);
  const groups = plan.length === 0 ? [[]] : plan;
  for (let i = 0; i < groups.length; i++) {
    await writeSafetensors(
      join(dir, files[i]!),
      groups[i]!.map((s) => s.entry),
      { metadata: opts.metadata ?? null, ...(opts.onProgress ? { onProgress: opts.onProgress } : {}) },
    );
  }
  const indexName = `${prefix}.safetensors.index.json`;
  let index: string | null = null;
  if (n > 1) {
    const weightMap: Record<string, string> = {};
    groups.forEach((g, i) =>
      g.forEach((s) => Object.defineProperty(weightMap, s.name, { value: files[i]!, enumerable: true })),
    );
    await writeFileAtomic(
      join(dir, indexName),
      `${pythonJson({ metadata: { total_size: totalSize }, weight_map: weightMap })}\n`,
    );
    index = indexName;
  }
  // remove what an earlier save left that the new layout does not use
  const keep = new Set([...files, ...(index ? [index] : [])]);
  const stale = new RegExp(
    `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(-\\d{5}-of-\\d{5}\\.safetensors|\\.safetensors|\\.safetensors\\.index\\.json)$`,
  );
  for (const name of await readdir(dir)) {
    if (stale.test(name) && !keep.has(name)) await rm(join(dir, name), { force: true });
  }
  return { files, index, totalSize };
}
