// Reading one safetensors file: header validated up front, then each tensor's byte range only.
import { open, type FileHandle } from 'node:fs/promises';
import type { RawTensor } from '../dtype/dtypes.js';
import { ReaderClosedError, SafetensorsError, SafetensorsTruncatedError } from './errors.js';
import { parseHeader, parseHeaderLength, type TensorInfo, type TensorSlot } from './header.js';
import { IndexedSafetensors } from './indexed.js';

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
export class SafetensorsFile extends IndexedSafetensors implements SafetensorsReader {
  private handle: FileHandle | null;

  private constructor(
    readonly path: string,
    handle: FileHandle,
    metadata: Record<string, string> | null,
    slots: TensorSlot[],
    /** Absolute file offset of the data section (8 + header length). */
    dataStart: number,
    /** Total file size in bytes. */
    readonly fileSize: number,
  ) {
    super(metadata, slots, dataStart);
    this.handle = handle;
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

  private live(): FileHandle {
    if (!this.handle) throw new ReaderClosedError(this.path, 'reader already closed; open the file again');
    return this.handle;
  }

  async read(name: string): Promise<RawTensor> {
    const s = this.slot(name);
    const bytes = await readExactly(this.live(), this.dataStart + s.dataOffsets[0], s.byteLength, this.path);
    return { dtype: s.dtype, shape: [...s.shape], bytes };
  }

  async readBytes(name: string, start: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    return readExactly(this.live(), this.rangeStart(name, start, length), length, this.path, into);
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    await h?.close();
  }
}
