// A read-only view of several 1-D tensors laid end to end (a rank's fp32 groups under ZeRO-3, a
// group's partitions across ranks under ZeRO-1/2, a frozen weight's per-rank fragments). Large reads
// land straight in the caller's buffer (no allocation, no copy); small reads are served from one
// bounded read-ahead window per view, a buffer reused from read to read, so that thousands of small
// parameters do not turn into thousands of syscalls or fresh allocations.
import type { TorchTensor } from '@vla-lora/checkpoint-io';
import { CorruptCheckpointError } from './errors.js';

/**
 * The read-ahead per view: reads of fewer bytes are served from (and fill) the window; larger ones go
 * straight into the caller's buffer. Reads go into reused buffers (the window's, or the caller's
 * chunk buffer): fresh buffers of 1 MB and more page-fault at 80–300 MB/s on the VMs we measured
 * (bench/consolidate.ts). Larger windows read more bytes that are never used (past a small piece).
 */
export const DEFAULT_WINDOW_BYTES = 256 << 10;

/** The part of TorchTensor this module uses (lets tests feed in-memory tensors). */
export type TensorLike = Pick<TorchTensor, 'dtype' | 'shape' | 'numel' | 'readElements'>;

export interface Segment {
  tensor: TensorLike;
  /** File the tensor lives in (for error messages). */
  file: string;
  /** What it is, e.g. "fp32_flat_groups[0]". */
  what: string;
}

/**
 * Reads `count` elements from `start` of a tensor (row-major; only that byte range for contiguous tensors),
 * into `into` (exactly count × itemsize bytes) when given.
 */
export async function readRange(
  t: TensorLike,
  start: number,
  count: number,
  itemsize: number,
  file: string,
  what: string,
  into?: Uint8Array,
): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await t.readElements(start, count, into);
  } catch (err) {
    throw new CorruptCheckpointError(
      `could not read ${what} (elements ${start}..${start + count}) from ${file}: ${(err as Error).message} — the file is truncated or damaged`,
      file,
      { cause: err },
    );
  }
  if (bytes.byteLength !== count * itemsize) {
    throw new CorruptCheckpointError(
      `${file}: ${what} gave ${bytes.byteLength} bytes for ${count} elements of ${itemsize} bytes — the file is truncated or damaged`,
      file,
    );
  }
  if (into && (bytes.buffer !== into.buffer || bytes.byteOffset !== into.byteOffset)) {
    into.set(bytes);
    return into;
  }
  return bytes;
}

export class ConcatView {
  readonly offsets: number[];
  readonly numel: number;
  private window: { seg: number; start: number; bytes: Uint8Array } | null = null;
  /** The window's buffer, reused from read to read. */
  private windowBuffer: Uint8Array | null = null;
  /** Reads on one view run one after another: they share the window buffer. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly segments: Segment[],
    readonly itemsize: number,
    private readonly windowBytes = DEFAULT_WINDOW_BYTES,
  ) {
    this.offsets = [0];
    for (const s of segments) this.offsets.push(this.offsets[this.offsets.length - 1]! + s.tensor.numel);
    this.numel = this.offsets[this.offsets.length - 1]!;
  }

  /** Copies elements [start, start+count) of the concatenation into dst at byte offset dstOffset. */
  copyTo(dst: Uint8Array, dstOffset: number, start: number, count: number): Promise<void> {
    const run = this.queue.then(() => this.#copy(dst, dstOffset, start, count));
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #copy(dst: Uint8Array, dstOffset: number, start: number, count: number): Promise<void> {
    if (start < 0 || count < 0 || start + count > this.numel) {
      const s = this.segments[0];
      throw new CorruptCheckpointError(
        `asked for elements ${start}..${start + count} of ${this.numel} (${this.segments.map((x) => x.what).join(' + ')}): the partitions are shorter than the parameter shapes need`,
        s?.file ?? '',
      );
    }
    let pos = start;
    let out = dstOffset;
    const end = start + count;
    while (pos < end) {
      const seg = this.segmentAt(pos);
      const segStart = this.offsets[seg]!;
      const local = pos - segStart;
      const n = Math.min(end, this.offsets[seg + 1]!) - pos;
      const s = this.segments[seg]!;
      if (n * this.itemsize >= this.windowBytes) {
        // a large read: straight into the destination, as one read (the caller's buffer bounds it)
        await readRange(s.tensor, local, n, this.itemsize, s.file, s.what, dst.subarray(out, out + n * this.itemsize));
      } else {
        dst.set(await this.read(seg, local, n), out);
      }
      out += n * this.itemsize;
      pos += n;
    }
  }

  private segmentAt(pos: number): number {
    // segments are few (ranks or groups); a linear scan from the window's segment is enough
    let i = this.window && this.offsets[this.window.seg]! <= pos ? this.window.seg : 0;
    while (this.offsets[i + 1]! <= pos) i++;
    return i;
  }

  /** A small read (n × itemsize < windowBytes), served from the read-ahead window. */
  private async read(seg: number, local: number, n: number): Promise<Uint8Array> {
    const s = this.segments[seg]!;
    const size = this.itemsize;
    const w = this.window;
    if (w && w.seg === seg && local >= w.start && (local + n) * size <= w.start * size + w.bytes.byteLength) {
      const from = (local - w.start) * size;
      return w.bytes.subarray(from, from + n * size);
    }
    const ahead = Math.min(s.tensor.numel - local, Math.max(n, Math.floor(this.windowBytes / size)));
    this.window = null;
    if (this.windowBuffer === null || this.windowBuffer.byteLength < ahead * size)
      this.windowBuffer = new Uint8Array(Math.max(ahead * size, Math.floor(this.windowBytes / size) * size));
    const bytes = await readRange(
      s.tensor,
      local,
      ahead,
      size,
      s.file,
      s.what,
      this.windowBuffer.subarray(0, ahead * size),
    );
    this.window = { seg, start: local, bytes };
    return bytes.subarray(0, n * size);
  }

  /** Drops the read-ahead window and its buffer (after the reads already queued). */
  release(): void {
    this.queue = this.queue.then(() => {
      this.window = null;
      this.windowBuffer = null;
    });
  }
}
