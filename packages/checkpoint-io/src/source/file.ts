// A local file as a ByteSource (Node only: this is the one module of source/ that imports node:).
import { open } from 'node:fs/promises';
import { checkReadRange, type ByteSource } from './byte-source.js';
import { SourceClosedError, SourceShortReadError } from './errors.js';

/** Largest single pread (fs APIs cap a read at 2 GiB - 1). */
const MAX_READ = 1 << 30;

/** Opens `path` for random access; close it when done. */
export async function openFileSource(path: string): Promise<ByteSource> {
  const handle = await open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    await handle.close();
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    name: path,
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      if (closed) throw new SourceClosedError(path, 'source already closed; open the file again');
      checkReadRange({ name: path, size }, offset, length);
      const out = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(out, done, Math.min(length - done, MAX_READ), offset + done);
        if (bytesRead === 0)
          throw new SourceShortReadError(
            path,
            `file ended after ${offset + done} bytes while reading ${length} bytes at ${offset}; it was truncated or changed while open`,
          );
        done += bytesRead;
      }
      return out;
    },
    close(): Promise<void> {
      closed ??= handle.close();
      return closed;
    },
  };
}
