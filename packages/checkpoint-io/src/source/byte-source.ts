// ByteSource: random access to bytes wherever they are (a local file, a Blob/File, an HTTP(S) URL
// read with Range requests). Readers of safetensors / .pt take one, so the same parser runs in Node
// and in a browser. This module and blob.ts / url.ts import nothing from node:.
import { SourceRangeError } from './errors.js';

export interface ByteSource {
  /** What error messages call it: a path, a File's name, a URL. */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes starting at `offset` (throws a typed error otherwise). */
  read(offset: number, length: number): Promise<Uint8Array>;
  /** Releases what the source holds (a file handle); reads afterwards fail. */
  close(): Promise<void>;
}

/**
 * The one bounds check of every read (sources, safetensors tensors, torch storages and tensors): true when
 * `offset` and `length` are non-negative safe integers and [offset, offset + length) lies inside [0, size).
 */
export function isRangeInside(offset: number, length: number, size: number): boolean {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) return false;
  return !(offset + length > size);
}

/** Throws SourceRangeError unless [offset, offset + length) lies inside the source. */
export function checkReadRange(source: { name: string; size: number }, offset: number, length: number): void {
  if (!isRangeInside(offset, length, source.size)) {
    throw new SourceRangeError(
      source.name,
      `read of ${length} bytes at ${offset} is outside the ${source.size}-byte source`,
    );
  }
}

/** A source over bytes already in memory (tests, small files, the body of a fetched index). */
export function bytesSource(bytes: Uint8Array, name = 'bytes'): ByteSource {
  const size = bytes.byteLength;
  return {
    name,
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      checkReadRange({ name, size }, offset, length);
      return bytes.slice(offset, offset + length);
    },
    async close(): Promise<void> {},
  };
}
