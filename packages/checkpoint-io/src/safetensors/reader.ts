// Reading one safetensors file: header validated up front, then each tensor's byte range only.
import { open, type FileHandle } from 'node:fs/promises';
import { toFloat32 } from '../dtype/convert.js';
import type { RawTensor } from '../dtype/dtypes.js';
import { ReaderClosedError, SafetensorsError, SafetensorsTruncatedError, TensorNotFoundError } from './errors.js';
import { parseHeader, parseHeaderLength, type TensorInfo, type TensorSlot } from './header.js';

/** What every safetensors reader (one file or a sharded set) offers. */
export interface SafetensorsReader {
  /** The file's `__metadata__` (for a sharded set: the first shard's), or null. */
  readonly metadata: Record<string, string> | null;
  /** Every tensor, without reading data (file order; shards in index order). */
  list(): TensorInfo[];
  has(name: string): boolean;
  /** Dtype/shape/size of one tensor, or throws TensorNotFoundError. */
  info(name: string): TensorInfo;
  /** Reads only this tensor's bytes. */
  read(name: string): Promise<RawTensor>;
  /** Reads and converts to float32 (F16/BF16/F64/ints/bool/fp8). */
  readFloat32(name: string): Promise<Float32Array>;
  /** Streams tensors one at a time in file order; at most one tensor is held by the iterator. */
  tensors(): AsyncIterable<[string, RawTensor]>;
  /**
   * Reads `length` bytes starting `start` bytes into tensor `name` (bounds checked), into `into`
   * when given (no allocation) — for streaming tensors larger than memory in chunks.
   */
  readBytes(name: string, start: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Largest single pread (fs APIs cap a read at 2 GiB - 1). */
const MAX_READ = 1 << 30;

/** Reads exactly `length` bytes at `position` into `into` (or a fresh, 8-byte aligned buffer). */
export async function readExactly(
  handle: FileHandle,
  position: number,
  length: number,
  path: string,
  into?: Uint8Array,
): Promise<Uint8Array> {
  const out = into ? into.subarray(0, length) : new Uint8Array(length);
  if (out.byteLength < length)
    throw new SafetensorsError(path, `buffer of ${into!.byteLength} bytes cannot hold ${length}`);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, Math.min(length - done, MAX_READ), position + done);
    if (bytesRead === 0) {
      throw new SafetensorsTruncatedError(
        path,
        `file ended after ${position + done} bytes while reading ${length} bytes at ${position}; it was truncated or changed while open`,
      );
    }
    done += bytesRead;
  }
  return out;
}

/** A validated, open safetensors file. Create with `SafetensorsFile.open(path)`. */
export class SafetensorsFile implements SafetensorsReader {
  private handle: FileHandle | null;
  private readonly byName: Map<string, TensorSlot>;

  private constructor(
    readonly path: string,
    handle: FileHandle,
    readonly metadata: Record<string, string> | null,
    private readonly slots: TensorSlot[],
    /** Absolute file offset of the data section (8 + header length). */
    readonly dataStart: number,
    /** Total file size in bytes. */
    readonly fileSize: number,
  ) {
    this.handle = handle;
    this.byName = new Map(slots.map((s) => [s.name, s]));
  }

  static async open(path: string): Promise<SafetensorsFile> {
    const handle = await open(path, 'r');
    try {
      const { size } = await handle.stat();
      const prefix = size >= 8 ? await readExactly(handle, 0, 8, path) : new Uint8Array(0);
      const headerLength = parseHeaderLength(prefix, size, path);
      const headerBytes = await readExactly(handle, 8, headerLength, path);
      const header = parseHeader(headerBytes, size - 8 - headerLength, path);
      return new SafetensorsFile(path, handle, header.metadata, header.tensors, 8 + headerLength, size);
    } catch (err) {
      await handle.close();
      throw err;
    }
  }

  /** Header length in bytes (without the 8-byte prefix). */
  get headerLength(): number {
    return this.dataStart - 8;
  }

  list(): TensorInfo[] {
    return this.slots.map(({ name, dtype, shape, byteLength }) => ({ name, dtype, shape: [...shape], byteLength }));
  }

  /** Tensors with their offsets inside the data section, in file order. */
  slotsInFileOrder(): TensorSlot[] {
    return this.slots.map((s) => ({ ...s, shape: [...s.shape], dataOffsets: [...s.dataOffsets] }));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  info(name: string): TensorInfo {
    const s = this.byName.get(name);
    if (!s) throw new TensorNotFoundError(this.path, name);
    return { name: s.name, dtype: s.dtype, shape: [...s.shape], byteLength: s.byteLength };
  }

  private live(): FileHandle {
    if (!this.handle) throw new ReaderClosedError(this.path, 'reader already closed; open the file again');
    return this.handle;
  }

  async read(name: string): Promise<RawTensor> {
    const s = this.byName.get(name);
    if (!s) throw new TensorNotFoundError(this.path, name);
    const bytes = await readExactly(this.live(), this.dataStart + s.dataOffsets[0], s.byteLength, this.path);
    return { dtype: s.dtype, shape: [...s.shape], bytes };
  }

  async readBytes(name: string, start: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const s = this.byName.get(name);
    if (!s) throw new TensorNotFoundError(this.path, name);
    if (
      !Number.isSafeInteger(start) ||
      !Number.isSafeInteger(length) ||
      start < 0 ||
      length < 0 ||
      start + length > s.byteLength
    ) {
      throw new SafetensorsError(
        this.path,
        `readBytes(${JSON.stringify(name)}, ${start}, ${length}) is outside the tensor's ${s.byteLength} bytes`,
      );
    }
    return readExactly(this.live(), this.dataStart + s.dataOffsets[0] + start, length, this.path, into);
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const t = await this.read(name);
    if (t.dtype === 'F32') return new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4);
    return toFloat32(t);
  }

  async *tensors(): AsyncIterable<[string, RawTensor]> {
    for (const s of this.slots) yield [s.name, await this.read(s.name)];
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }
}
