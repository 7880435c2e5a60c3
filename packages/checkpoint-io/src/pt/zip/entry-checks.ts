// Checks both zip readers make (ZipArchive: yauzl on a Node file handle, streaming inflate; SourceZipArchive:
// any ByteSource, no node: imports, for browsers). No node: imports here, so the browser reader can share them.
import { PtTruncatedError, PtZipError } from '../errors.js';
import type { ZipEntryLike } from './source-archive.js';

/** Names with `..` segments, absolute paths, drive letters or backslashes are rejected (zip-slip). */
export function unsafeEntryName(name: string): string | undefined {
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return 'is an absolute path';
  if (name.split('/').includes('..')) return 'contains a ".." segment';
  if (name.includes('\0')) return 'contains a NUL byte';
  return undefined;
}

/** Refuses a read of [offset, offset+length) outside an entry's uncompressed data, or into a wrong-sized target. */
export function checkEntryRead(
  fileName: string,
  info: ZipEntryLike,
  offset: number,
  length: number,
  into: Uint8Array | undefined,
): void {
  if (offset < 0 || length < 0 || offset + length > info.uncompressedSize)
    throw new PtZipError(
      `${fileName}: read of [${offset}, ${offset + length}) outside zip entry ${info.name} (${info.uncompressedSize} bytes)`,
    );
  if (into !== undefined && into.byteLength !== length)
    throw new PtZipError(`internal: target of ${into.byteLength} bytes for a ${length}-byte read`);
}

/** Refuses reading a whole entry larger than `maxBytes`. */
export function checkEntryLimit(fileName: string, info: ZipEntryLike, maxBytes: number): void {
  if (info.uncompressedSize > maxBytes)
    throw new PtZipError(
      `${fileName}: zip entry ${info.name} is ${info.uncompressedSize} bytes, over the limit of ${maxBytes}`,
    );
}

/**
 * Keeps bytes [offset, offset + length) of a deflated entry's output in `out` as the inflater hands over chunks
 * (node:zlib in ZipArchive, DecompressionStream in SourceZipArchive); `filled` says how many it holds.
 */
export class InflateWindow {
  /** Uncompressed position reached. */
  #pos = 0;
  filled = 0;

  constructor(
    readonly out: Uint8Array,
    private readonly offset: number,
    private readonly length: number,
    private readonly info: ZipEntryLike,
    private readonly fileName: string,
  ) {}

  /** Takes one inflated chunk; returns the error to raise when the entry inflates past its declared size. */
  push(chunk: Uint8Array): PtZipError | undefined {
    const from = Math.max(this.offset - this.#pos, 0);
    const to = Math.min(chunk.length, this.offset + this.length - this.#pos);
    if (to > from) {
      this.out.set(chunk.subarray(from, to), this.filled);
      this.filled += to - from;
    }
    this.#pos += chunk.length;
    return this.#pos > this.info.uncompressedSize
      ? new PtZipError(`${this.fileName}: zip entry ${this.info.name} inflates past its declared size`)
      : undefined;
  }

  /** Throws PtTruncatedError unless the whole window was filled. */
  checkFilled(): Uint8Array {
    if (this.filled !== this.length)
      throw new PtTruncatedError(`${this.fileName}: zip entry ${this.info.name} inflates to fewer bytes than declared`);
    return this.out;
  }
}
