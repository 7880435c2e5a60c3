// A safetensors file whose tensors stay on disk (and in the OS page cache) in their file dtype and
// enter the tfjs backend on demand: whole tensors for a block's frozen weights (`source`), or only
// some rows of a table (`gatherRows`, the embedding). Reads are synchronous (positioned `readSync`)
// because tfjs forward and backward passes are synchronous; the header is parsed and validated by
// checkpoint-io (`parseHeaderLength` / `parseHeader`), so every read stays inside a checked range.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import {
  bf16ToF32,
  f16ToF32,
  parseHeader,
  parseHeaderLength,
  type TensorInfo,
  type TensorSlot,
} from '@vla-lora/checkpoint-io';
import type { WeightSource } from '@vla-lora/lora-core';
import { StreamedWeightsError } from '../errors.js';

/** A table read row by row (an embedding), never whole. */
export interface RowSource {
  readonly shape: readonly [number, number];
  /** Rows `ids` as float32, [ids.length × dim] row-major. */
  gatherRows(ids: Int32Array): Float32Array;
}

const FLOAT_DTYPES = new Set(['F32', 'BF16', 'F16']);

export class StreamedSafetensors {
  private readonly slots = new Map<string, TensorSlot>();
  /** Bytes read from the file so far (header included). */
  bytesRead = 0;
  /** Float32 bytes of materialised tensors alive in the backend now, and the most at any time. */
  liveBytes = 0;
  peakLiveBytes = 0;
  /** How many times each tensor was materialised whole. */
  readonly materializations = new Map<string, number>();
  private fd: number | null;

  private constructor(
    readonly path: string,
    fd: number,
    private readonly dataStart: number,
    slots: TensorSlot[],
    readonly metadata: Record<string, string> | null,
    readonly headerBytes: number,
  ) {
    this.fd = fd;
    for (const s of slots) this.slots.set(s.name, s);
  }

  /** Opens `path` and reads and validates its header only (8 + header length bytes). */
  static open(path: string): StreamedSafetensors {
    const fd = openSync(path, 'r');
    try {
      const size = fstatSync(fd).size;
      const prefix = new Uint8Array(8);
      const got = size >= 8 ? readSync(fd, prefix, 0, 8, 0) : 0;
      const len = parseHeaderLength(prefix.subarray(0, got), size, path);
      const header = new Uint8Array(len);
      readExact(fd, header, 8, path);
      const parsed = parseHeader(header, size - 8 - len, path);
      const f = new StreamedSafetensors(path, fd, 8 + len, parsed.tensors, parsed.metadata, 8 + len);
      f.bytesRead = 8 + len;
      return f;
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  }

  list(): TensorInfo[] {
    return [...this.slots.values()].map(({ name, dtype, shape, byteLength }) => ({
      name,
      dtype,
      shape: [...shape],
      byteLength,
    }));
  }
  has(name: string): boolean {
    return this.slots.has(name);
  }
  info(name: string): TensorInfo {
    const s = this.slot(name);
    return { name: s.name, dtype: s.dtype, shape: [...s.shape], byteLength: s.byteLength };
  }

  private slot(name: string): TensorSlot {
    const s = this.slots.get(name);
    if (s === undefined) throw new StreamedWeightsError(`${this.path} has no tensor '${name}'`, [name]);
    if (!FLOAT_DTYPES.has(s.dtype))
      throw new StreamedWeightsError(`${this.path}: tensor '${name}' is ${s.dtype}; weights must be F32, BF16 or F16`, [
        name,
      ]);
    return s;
  }

  private live(): number {
    if (this.fd === null) throw new StreamedWeightsError(`${this.path} is closed; open it again to stream weights`);
    return this.fd;
  }

  /** Elements [start, start + count) of `name` as float32. */
  readFloat32(name: string, start = 0, count?: number): Float32Array {
    const s = this.slot(name);
    const item = s.dtype === 'F32' ? 4 : 2;
    const n = s.byteLength / item;
    const k = count ?? n - start;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(k) || start < 0 || k < 0 || start + k > n)
      throw new StreamedWeightsError(`${this.path}: elements [${start}, ${start + k}) are outside '${name}' (${n})`, [
        name,
      ]);
    const bytes = new Uint8Array(k * item);
    readExact(this.live(), bytes, this.dataStart + s.dataOffsets[0] + start * item, this.path);
    this.bytesRead += bytes.byteLength;
    if (s.dtype === 'F32') return new Float32Array(bytes.buffer);
    const half = new Uint16Array(bytes.buffer);
    return s.dtype === 'BF16' ? bf16ToF32(half) : f16ToF32(half);
  }

  /** A frozen weight read whole each time its block runs; accounted in `liveBytes` until released. */
  source(name: string): WeightSource {
    const s = this.slot(name);
    const shape = [...s.shape];
    const bytes = 4 * shape.reduce((a, b) => a * b, 1);
    return {
      shape,
      materialize: () => {
        const t = tf.tensor(this.readFloat32(name), shape, 'float32');
        this.materializations.set(name, (this.materializations.get(name) ?? 0) + 1);
        this.liveBytes += bytes;
        this.peakLiveBytes = Math.max(this.peakLiveBytes, this.liveBytes);
        return t;
      },
      released: () => {
        this.liveBytes -= bytes;
      },
    };
  }

  /** A [num, dim] table of which only the requested rows are ever read. */
  rows(name: string): RowSource {
    const s = this.slot(name);
    if (s.shape.length !== 2)
      throw new StreamedWeightsError(`'${name}' is [${s.shape}], not a [num, dim] table`, [name]);
    const [num, dim] = s.shape as [number, number];
    return {
      shape: [num, dim],
      gatherRows: (ids: Int32Array): Float32Array => {
        const out = new Float32Array(ids.length * dim);
        const cache = new Map<number, Float32Array>();
        for (let i = 0; i < ids.length; i++) {
          const id = ids[i]!;
          if (!(id >= 0 && id < num))
            throw new StreamedWeightsError(`token id ${id} is outside '${name}' (${num} rows)`, [name]);
          let row = cache.get(id);
          if (row === undefined) {
            row = this.readFloat32(name, id * dim, dim);
            cache.set(id, row);
          }
          out.set(row, i * dim);
        }
        return out;
      },
    };
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

function readExact(fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.byteLength) {
    const n = readSync(fd, into, done, Math.min(into.byteLength - done, 1 << 30), position + done);
    if (n === 0)
      throw new StreamedWeightsError(
        `${path}: unexpected end of file at byte ${position + done}; the file is truncated`,
      );
    done += n;
  }
}
