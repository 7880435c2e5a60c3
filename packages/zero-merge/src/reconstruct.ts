// The state dict DeepSpeed's zero_to_fp32 reconstructs, as a list of lazy tensors: names, dtypes
// and shapes are known (and every sanity check has run) before a single tensor byte is read; each
// tensor's bytes are gathered from the rank files only when its `read()` is called.
import { toFloat32, type Dtype } from '@vla-lora/checkpoint-io';
import { basename } from 'node:path';
import type { ZeroCheckpoint } from './checkpoint.js';
import { ConcatView, readRange, type Segment } from './concat.js';
import { itemsizeOf, torchToSafetensorsDtype } from './dtypes.js';
import { CorruptCheckpointError, NumelMismatchError } from './errors.js';
import { numelOf } from './pickle.js';

export type TensorKind = 'buffer' | 'frozen' | 'trainable' | 'shared';

export interface ReconstructedTensor {
  name: string;
  kind: TensorKind;
  /** dtype of `read()`'s bytes: F32 for trainable params and buffers, the saved 16-bit dtype for frozen ones. */
  dtype: Dtype;
  shape: number[];
  numel: number;
  /** For kind 'shared': the tensor it is tied to (zero_to_fp32's shared_params). */
  sharedWith?: string;
  /** For kind 'trainable': the optimizer param group. */
  group?: number;
  /** Gathers the whole tensor (little-endian, row-major); each call reads the rank files again. */
  read(): Promise<Uint8Array>;
  /**
   * The same bytes as consecutive chunks of at most `maxBytes` (whole elements), so that a tensor of
   * any size streams through bounded buffers: two, reused in turn, the next chunk read ahead while the
   * consumer handles the current one. Consume each chunk before pulling the next.
   */
  chunks(maxBytes?: number): AsyncIterable<Uint8Array>;
}

/**
 * Default chunk size of `chunks()`. 512 KB measured fastest on the 2-core VM (bench/phases.ts, load ~10):
 * 256 KB makes twice the reads and writes; 1–2 MB chunks took more system time (not explained yet).
 */
export const DEFAULT_CHUNK_BYTES = 512 << 10;

/** A run of elements of the output tensor: `count` elements of `view` from `start`. */
interface Piece {
  view: ConcatView;
  start: number;
  count: number;
}

/**
 * read() and chunks() of a tensor made of pieces laid end to end. `ownViews`: the views serve this tensor
 * only (a frozen parameter's fragments), so their read-ahead windows are dropped once it has been read:
 * memory then does not grow with the number of frozen tensors.
 */
function fromPieces(
  pieces: Piece[],
  itemsize: number,
  numel: number,
  ownViews = false,
): Pick<ReconstructedTensor, 'read' | 'chunks'> {
  const done = (): void => {
    if (ownViews) for (const p of pieces) p.view.release();
  };
  return {
    async read() {
      const buf = new Uint8Array(numel * itemsize);
      let at = 0;
      try {
        for (const p of pieces) {
          await p.view.copyTo(buf, at, p.start, p.count);
          at += p.count * itemsize;
        }
      } finally {
        done();
      }
      return buf;
    },
    async *chunks(maxBytes = DEFAULT_CHUNK_BYTES) {
      const per = Math.max(1, Math.floor(maxBytes / itemsize));
      const plan: Array<{ p: Piece; at: number; n: number }> = [];
      for (const p of pieces)
        for (let done = 0; done < p.count; done += per)
          plan.push({ p, at: p.start + done, n: Math.min(per, p.count - done) });
      // Two buffers: chunk k+1 is read into one while the consumer writes chunk k out of the other.
      const size = Math.min(per, numel) * itemsize;
      const buffers: Uint8Array[] = [];
      const fill = async (k: number): Promise<Uint8Array> => {
        const { p, at, n } = plan[k]!;
        buffers[k % 2] ??= new Uint8Array(size);
        const out = buffers[k % 2]!.subarray(0, n * itemsize);
        await p.view.copyTo(out, 0, at, n);
        return out;
      };
      let next: Promise<Uint8Array> | null = plan.length > 0 ? fill(0) : null;
      try {
        for (let k = 0; next !== null; k++) {
          const out: Uint8Array = await next;
          // the consumer is done with chunk k-1 (it asked for chunk k): its buffer takes chunk k+1
          next = k + 1 < plan.length ? fill(k + 1) : null;
          yield out;
        }
      } finally {
        // a consumer that stops early: let the read in flight finish (and drop its error)
        await next?.catch(() => undefined);
        done();
      }
    },
  };
}

export interface KindCount {
  count: number;
  numel: number;
}

export interface Reconstruction {
  /** In zero_to_fp32's state-dict order: buffers, frozen params, trainable params, shared params. */
  tensors: ReconstructedTensor[];
  counts: Record<TensorKind, KindCount>;
  /** [tied, source] pairs saved in shared_params, including those whose source is absent. */
  sharedParams: Array<[string, string]>;
  /** Things zero_to_fp32 passes over silently that a user should know about. */
  warnings: string[];
}

export interface ReconstructOptions {
  /** zero_to_fp32's --exclude_frozen_parameters. */
  excludeFrozen?: boolean;
  /** Read-ahead per rank view (bytes). */
  windowBytes?: number;
}

function ceilDiv(a: number, b: number): number {
  return Math.floor((a + b - 1) / b);
}

function buffersOf(ck: ZeroCheckpoint, out: Map<string, ReconstructedTensor>, warnings: string[]): void {
  const m = ck.models[0]!;
  for (const { name, tensor } of m.buffers) {
    const src = torchToSafetensorsDtype(tensor.dtype, `${m.file}: buffer ${name}`);
    const shape = [...tensor.shape];
    out.set(name, {
      name,
      kind: 'buffer',
      dtype: 'F32',
      shape,
      numel: numelOf(shape),
      read,
      async *chunks() {
        yield await read();
      },
    });
    async function read(): Promise<Uint8Array> {
      const bytes = await readRange(tensor, 0, tensor.numel, itemsizeOf(src), m.file, `buffer ${name}`);
      // zero_to_fp32 restores buffers with .float()
      if (src === 'F32') return bytes;
      const f = toFloat32({ dtype: src, shape, bytes });
      return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
    }
  }
  const inModule = new Set(m.buffers.map((b) => b.name));
  const absent = m.bufferNames.filter((n) => !inModule.has(n));
  if (absent.length > 0)
    warnings.push(
      `buffer_names lists ${absent.join(', ')} but the module state has no such entries; they are not in the output (zero_to_fp32 drops them too)`,
    );
}

/** A trainable parameter's record: fp32 from the optimizer's flat groups, `pieces` laid end to end. */
function trainableTensor(name: string, shape: readonly number[], group: number, pieces: Piece[]): ReconstructedTensor {
  const n = numelOf(shape);
  return { name, kind: 'trainable', dtype: 'F32', shape: [...shape], numel: n, group, ...fromPieces(pieces, 4, n) };
}

/** A frozen parameter's record: its `n` elements from the start of `view`, a view that serves it alone. */
function frozenTensor(
  name: string,
  dtype: ReconstructedTensor['dtype'],
  shape: readonly number[],
  view: ConcatView,
  n: number,
): ReconstructedTensor {
  return {
    name,
    kind: 'frozen',
    dtype,
    shape: [...shape],
    numel: n,
    ...fromPieces([{ view, start: 0, count: n }], view.itemsize, n, true),
  };
}

function frozenZero2(ck: ZeroCheckpoint, out: Map<string, ReconstructedTensor>, windowBytes: number | undefined): void {
  const m = ck.models[0]!;
  for (const { name, shape } of m.frozenShapes) {
    const t = m.frozenFragments.get(name);
    if (!t)
      throw new CorruptCheckpointError(
        `${m.file}: frozen_param_fragments has no entry for frozen parameter ${name}`,
        m.file,
      );
    const n = numelOf(shape);
    if (t.numel !== n)
      throw new CorruptCheckpointError(
        `${m.file}: frozen parameter ${name} has ${t.numel} elements but frozen_param_shapes says ${JSON.stringify(shape)}`,
        m.file,
      );
    const dtype = torchToSafetensorsDtype(t.dtype, `${m.file}: frozen ${name}`);
    const view = new ConcatView(
      [{ tensor: t, file: m.file, what: `frozen_param_fragments[${JSON.stringify(name)}]` }],
      itemsizeOf(dtype),
      windowBytes,
    );
    out.set(name, frozenTensor(name, dtype, shape, view, n));
  }
}

function frozenZero3(ck: ZeroCheckpoint, out: Map<string, ReconstructedTensor>, windowBytes: number | undefined): void {
  const m0 = ck.models[0]!;
  for (const { name, shape } of m0.frozenShapes) {
    const segments: Segment[] = ck.models.map((m, r) => {
      const t = m.frozenFragments.get(name);
      if (!t)
        throw new CorruptCheckpointError(
          `${basename(m.file)} (rank ${r}) has no frozen_param_fragments entry for ${name}`,
          m.file,
        );
      return { tensor: t, file: m.file, what: `frozen_param_fragments[${JSON.stringify(name)}]` };
    });
    const dtypes = new Set(segments.map((s) => s.tensor.dtype));
    if (dtypes.size !== 1)
      throw new CorruptCheckpointError(
        `frozen parameter ${name} has fragments of different dtypes (${[...dtypes].join(', ')}) across ranks`,
        m0.file,
      );
    const dtype = torchToSafetensorsDtype(segments[0]!.tensor.dtype, `${m0.file}: frozen ${name}`);
    const n = numelOf(shape);
    const view = new ConcatView(segments, itemsizeOf(dtype), windowBytes);
    if (view.numel < n) {
      throw new NumelMismatchError(
        `frozen parameter ${name} ${JSON.stringify(shape)} needs ${n} elements but the ${ck.worldSize} ranks' fragments hold ${view.numel}`,
        view.numel,
        n,
      );
    }
    out.set(name, frozenTensor(name, dtype, shape, view, n));
  }
}

function trainableZero2(
  ck: ZeroCheckpoint,
  out: Map<string, ReconstructedTensor>,
  windowBytes: number | undefined,
): void {
  const groups = ck.models[0]!.paramGroups;
  const nGroups = ck.fp32Groups[0]!.length;
  if (groups.length !== nGroups) {
    throw new CorruptCheckpointError(
      `${ck.modelFiles[0]}: param_shapes has ${groups.length} param groups but the optimizer files hold ${nGroups} fp32 partitions per rank — model and optimizer states come from different saves`,
      ck.modelFiles[0]!,
    );
  }
  const alignTo = 2 * ck.worldSize;
  const align = (x: number): number => alignTo * ceilDiv(x, alignTo);
  for (let g = 0; g < nGroups; g++) {
    // the full group vector = cat(rank 0's partition, rank 1's, ...)
    const view = new ConcatView(
      ck.fp32Groups.map((groupsOfRank, r) => ({
        tensor: groupsOfRank[g]!,
        file: ck.optimFiles[r]!,
        what: `single_partition_of_fp32_groups[${g}]`,
      })),
      4,
      windowBytes,
    );
    let offset = 0;
    for (const { name, shape } of groups[g]!) {
      const n = numelOf(shape);
      const start = offset;
      out.set(name, trainableTensor(name, shape, g, [{ view, start, count: n }]));
      offset += n;
    }
    // ZeRO-2 pads to 2*world_size; zero_to_fp32 compares both sides aligned
    if (align(offset) !== align(view.numel)) {
      throw new NumelMismatchError(
        `param group ${g}: the parameter shapes consume ${align(offset)} numels (aligned to ${alignTo}) out of ${align(view.numel)} in the ${ck.worldSize} ranks' fp32 partitions — the files do not belong together or a rank file is from another save`,
        align(offset),
        align(view.numel),
      );
    }
  }
}

function trainableZero3(
  ck: ZeroCheckpoint,
  out: Map<string, ReconstructedTensor>,
  windowBytes: number | undefined,
): void {
  const ws = ck.worldSize;
  const sizes0 = ck.fp32Groups[0]!.map((t) => t.numel);
  for (let r = 1; r < ws; r++) {
    const sizes = ck.fp32Groups[r]!.map((t) => t.numel);
    if (JSON.stringify(sizes) !== JSON.stringify(sizes0)) {
      throw new CorruptCheckpointError(
        `${basename(ck.optimFiles[r]!)} has fp32_flat_groups of ${JSON.stringify(sizes)} elements but rank 0 has ${JSON.stringify(sizes0)}; ZeRO-3 partitions are equal across ranks — the files come from different saves`,
        ck.optimFiles[r]!,
      );
    }
  }
  const available = sizes0.reduce((a, b) => a + b, 0) * ws;
  // one view per rank over its groups laid end to end: params may straddle group boundaries
  const views = ck.fp32Groups.map(
    (groupsOfRank, r) =>
      new ConcatView(
        groupsOfRank.map((t, g) => ({ tensor: t, file: ck.optimFiles[r]!, what: `fp32_flat_groups[${g}]` })),
        4,
        windowBytes,
      ),
  );
  let offset = 0;
  const groups = ck.models[0]!.paramGroups;
  for (const [gi, group] of groups.entries()) {
    for (const { name, shape } of group) {
      const n = numelOf(shape);
      const partitioned = ceilDiv(n, ws);
      // rank r holds elements [r*partitioned, (r+1)*partitioned) of the padded parameter
      const pieces: Piece[] = [];
      for (let r = 0; r < ws; r++) {
        const count = Math.max(0, Math.min(partitioned, n - r * partitioned));
        if (count > 0) pieces.push({ view: views[r]!, start: offset, count });
      }
      out.set(name, trainableTensor(name, shape, gi, pieces));
      offset += partitioned;
    }
  }
  if (offset * ws !== available) {
    throw new NumelMismatchError(
      `consumed ${offset * ws} numels out of ${available} in fp32_flat_groups (${ws} ranks × ${JSON.stringify(sizes0)}): param_shapes does not match the optimizer partitions — the model and optimizer files come from different saves`,
      offset * ws,
      available,
    );
  }
}

/**
 * Plans the reconstruction exactly as zero_to_fp32 does it (stage 1/2: single_partition_of_fp32_groups
 * concatenated across ranks, 2*world_size alignment check; stage 3: fp32_flat_groups zipped per
 * parameter, each padded to a multiple of world size; frozen params in their saved 16-bit dtype;
 * buffers as float32; shared_params tied to their source). Throws on every inconsistency it can
 * see without reading tensor bytes.
 */
export function reconstruct(ck: ZeroCheckpoint, opts: ReconstructOptions = {}): Reconstruction {
  const out = new Map<string, ReconstructedTensor>();
  const warnings: string[] = [];
  buffersOf(ck, out, warnings);
  if (!opts.excludeFrozen) {
    if (ck.stage <= 2) frozenZero2(ck, out, opts.windowBytes);
    else frozenZero3(ck, out, opts.windowBytes);
  }
  if (ck.stage <= 2) trainableZero2(ck, out, opts.windowBytes);
  else trainableZero3(ck, out, opts.windowBytes);
  const sharedParams = ck.models[0]!.sharedParams;
  for (const [tied, source] of sharedParams) {
    const src = out.get(source);
    if (!src) continue; // zero_to_fp32: only when the source is in the state dict
    out.set(tied, { ...src, name: tied, kind: 'shared', sharedWith: source });
  }
  const counts: Record<TensorKind, KindCount> = {
    buffer: { count: 0, numel: 0 },
    frozen: { count: 0, numel: 0 },
    trainable: { count: 0, numel: 0 },
    shared: { count: 0, numel: 0 },
  };
  for (const t of out.values()) {
    counts[t.kind].count++;
    counts[t.kind].numel += t.numel;
  }
  return { tensors: [...out.values()], counts, sharedParams, warnings };
}
