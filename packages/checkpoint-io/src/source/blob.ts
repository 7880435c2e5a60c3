// A Blob or File (a browser's file input / drag-and-drop, Node ≥ 20's Blob and fs.openAsBlob) as a
// ByteSource: each read slices the Blob, so a multi-gigabyte File is never loaded whole.
import { checkReadRange, type ByteSource } from './byte-source.js';
import { SourceClosedError, SourceShortReadError } from './errors.js';

/** Wraps a Blob/File; `name` defaults to the File's name. */
export function blobSource(blob: Blob, name?: string): ByteSource {
  let open = true;
  const label = name ?? (typeof (blob as { name?: unknown }).name === 'string' ? (blob as File).name : 'blob');
  return {
    name: label,
    size: blob.size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (!open) throw new SourceClosedError(label, 'source already closed; open the file again');
      checkReadRange({ name: label, size: blob.size }, offset, length);
      if (length === 0) return new Uint8Array(0);
      const out = new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
      if (out.byteLength !== length) {
        throw new SourceShortReadError(
          label,
          `asked for ${length} bytes at ${offset}, got ${out.byteLength}; the file changed while open — open it again`,
        );
      }
      return out;
    },
    async close(): Promise<void> {
      open = false;
    },
  };
}
