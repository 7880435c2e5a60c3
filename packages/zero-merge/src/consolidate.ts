// zero-merge's main job: a DeepSpeed ZeRO checkpoint -> safetensors (one file, or shards + index),
// gathered one tensor at a time, written to a temp name and renamed into place at the end.
import { resolve } from 'node:path';
import {
  numel,
  freshOutputPath,
  withAtomicDir,
  writeSafetensors,
  writeSafetensorsSharded,
  type SafetensorsEntry,
} from '@vla-lora/checkpoint-io';
import { openZeroCheckpoint, type ZeroCheckpoint } from './checkpoint.js';
import { convertBytes, itemsizeOf, outputDtype, type OutputDtype } from './dtypes.js';
import { OutputExistsError, ZeroMergeUsageError } from './errors.js';
import { nameFilter } from './filter.js';
import type { ProgressListener } from './progress.js';
import {
  DEFAULT_CHUNK_BYTES,
  reconstruct,
  type KindCount,
  type ReconstructedTensor,
  type TensorKind,
} from './reconstruct.js';

/** huggingface_hub's default "5GB" (decimal, as transformers parses it). */
export const DEFAULT_MAX_SHARD_SIZE = 5_000_000_000;

export interface ConsolidateOptions {
  /** Checkpoint tag (default: the `latest` file). */
  tag?: string;
  /** Leave frozen parameters out (zero_to_fp32's --exclude_frozen_parameters). */
  excludeFrozen?: boolean;
  /** 'keep' (default) writes what zero_to_fp32 reconstructs: fp32 trainable, frozen in their 16-bit dtype. */
  dtype?: OutputDtype;
  /** Name patterns to keep (glob on dotted names, `**` spans segments, `re:` for a regex). */
  include?: string[];
  /** Name patterns to drop. */
  exclude?: string[];
  /** Largest shard in bytes when writing a directory (default 5 GB). */
  maxShardSize?: number;
  /** Replace an existing output. */
  overwrite?: boolean;
  onProgress?: ProgressListener;
  /** Read-ahead per rank view for small reads (bytes, default 256 KB); larger reads go straight into a chunk. */
  windowBytes?: number;
  /** Largest piece of a tensor held at once (bytes, default 512 KB; two in flight): tensors stream in chunks. */
  chunkBytes?: number;
}

export interface ConsolidateResult {
  output: string;
  /** Files written (absolute paths), shards first, then the index if any. */
  files: string[];
  tensors: number;
  bytes: number;
  stage: number;
  worldSize: number;
  counts: Record<TensorKind, KindCount>;
  warnings: string[];
}

/** Turns reconstructed tensors into streamed safetensors entries (dtype option applied, progress reported). */
export function toEntries(
  tensors: ReconstructedTensor[],
  dtype: OutputDtype,
  onProgress?: ProgressListener,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): SafetensorsEntry[] {
  const totalBytes = tensors.reduce((a, t) => a + t.numel * itemsizeOf(outputDtype(t.dtype, dtype)), 0);
  let done = 0;
  let bytes = 0;
  return tensors.map((t) => {
    const to = outputDtype(t.dtype, dtype);
    const from = t.dtype;
    const inSize = itemsizeOf(from);
    return {
      name: t.name,
      dtype: to,
      shape: t.shape,
      data: {
        async *chunks() {
          for await (const c of t.chunks(chunkBytes)) {
            const data = from === to ? c : convertBytes(c, from, to, [c.byteLength / inSize]);
            bytes += data.byteLength;
            yield data;
          }
          done++;
          onProgress?.({ phase: 'read', tensors: done, totalTensors: tensors.length, bytes, totalBytes, name: t.name });
        },
      },
    };
  });
}

/** Selects the tensors to write (exclude-frozen and the name filter applied). */
export function selectTensors(
  tensors: ReconstructedTensor[],
  include: string[] = [],
  exclude: string[] = [],
): ReconstructedTensor[] {
  const keep = nameFilter(include, exclude);
  const picked = tensors.filter((t) => keep(t.name));
  if (picked.length === 0 && tensors.length > 0) {
    throw new ZeroMergeUsageError(
      `the name filter (include ${JSON.stringify(include)}, exclude ${JSON.stringify(exclude)}) matches none of the ${tensors.length} tensors, e.g. ${tensors[0]!.name}`,
    );
  }
  return picked;
}

/**
 * Consolidates the checkpoint at `checkpoint` into `output`: a `.safetensors` path gives one file;
 * any other path is a directory that gets model.safetensors, or model-0000k-of-0000n.safetensors +
 * model.safetensors.index.json past `maxShardSize`. Tied weights (shared_params) are written as
 * copies under both names. Nothing appears at `output` unless everything succeeded.
 */
export async function consolidate(
  checkpoint: string,
  output: string,
  opts: ConsolidateOptions = {},
): Promise<ConsolidateResult> {
  const out = resolve(output);
  const maxShardSize = opts.maxShardSize ?? DEFAULT_MAX_SHARD_SIZE;
  if (!Number.isSafeInteger(maxShardSize) || maxShardSize <= 0)
    throw new ZeroMergeUsageError(`max shard size must be a positive number of bytes, got ${maxShardSize}`);
  if (opts.maxShardSize !== undefined && out.endsWith('.safetensors')) {
    throw new ZeroMergeUsageError(
      `${out} is a single file; to shard past a maximum size, give an output directory instead`,
    );
  }
  await freshOutputPath(out, opts.overwrite, (m) => new OutputExistsError(`${m} (overwrite: true)`));
  const ck: ZeroCheckpoint = await openZeroCheckpoint(checkpoint, opts.tag !== undefined ? { tag: opts.tag } : {});
  try {
    const rec = reconstruct(ck, {
      excludeFrozen: opts.excludeFrozen ?? false,
      ...(opts.windowBytes ? { windowBytes: opts.windowBytes } : {}),
    });
    const tensors = selectTensors(rec.tensors, opts.include, opts.exclude);
    const dtype = opts.dtype ?? 'keep';
    const entries = toEntries(tensors, dtype, opts.onProgress, opts.chunkBytes);
    const bytes = entries.reduce((a, e) => a + numel(e.shape) * itemsizeOf(e.dtype), 0);
    let files: string[];
    if (out.endsWith('.safetensors')) {
      await writeSafetensors(out, entries, { metadata: { format: 'pt' } });
      files = [out];
    } else {
      files = await withAtomicDir(
        out,
        async (tmp) => {
          const r = await writeSafetensorsSharded(tmp, entries, { maxShardSize, metadata: { format: 'pt' } });
          return [...r.files, ...(r.index ? [r.index] : [])].map((f) => resolve(out, f));
        },
        { replace: opts.overwrite ?? false },
      );
    }
    opts.onProgress?.({
      phase: 'done',
      tensors: tensors.length,
      totalTensors: tensors.length,
      bytes,
      totalBytes: bytes,
      name: '',
    });
    const counts = {
      buffer: { count: 0, numel: 0 },
      frozen: { count: 0, numel: 0 },
      trainable: { count: 0, numel: 0 },
      shared: { count: 0, numel: 0 },
    };
    for (const t of tensors) {
      counts[t.kind].count++;
      counts[t.kind].numel += t.numel;
    }
    return {
      output: out,
      files,
      tensors: tensors.length,
      bytes,
      stage: ck.stage,
      worldSize: ck.worldSize,
      counts,
      warnings: rec.warnings,
    };
  } finally {
    await ck.close();
  }
}
