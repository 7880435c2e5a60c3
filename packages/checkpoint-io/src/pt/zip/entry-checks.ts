// Checks both zip readers make (ZipArchive: yauzl on a Node file handle, streaming inflate; SourceZipArchive:
// any ByteSource, no node: imports, for browsers). No node: imports here, so the browser reader can share them.
import { PtZipError } from '../errors.js';
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
