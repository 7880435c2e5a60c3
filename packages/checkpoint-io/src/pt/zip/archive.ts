// Read access to a zip archive: yauzl parses the central directory (zip64 included) and the local headers;
// entry data is read straight from our own file handle at the offsets yauzl verified, so a byte range of a
// multi-GB stored entry costs one pread of that range.
// Why a second reader beside SourceZipArchive (ByteSource, browsers): this one inflates deflated entries as a
// stream with node:zlib, keeping only the window asked for, where the browser reader holds the compressed entry in
// memory; the checks both make live in entry-checks.ts.
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';
import yauzl from 'yauzl';
import { PtClosedError, PtTruncatedError, PtZipError } from '../errors.js';
import { checkEntryLimit, checkEntryRead, InflateWindow, unsafeEntryName } from './entry-checks.js';

export interface ZipEntryInfo {
  readonly name: string;
  readonly compressionMethod: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly entry: yauzl.Entry;
}

function mapYauzlError(fileName: string, err: unknown): Error {
  const msg = err instanceof Error ? err.message : String(err);
  if (/invalid relative path|absolute path|invalid characters in fileName/.test(msg)) {
    return new PtZipError(`${fileName}: zip entry name is unsafe (${msg}); refusing to read this archive`, {
      cause: err,
    });
  }
  if (
    /end of central directory record signature not found|unexpected EOF|overflows file bounds|file data overflows/i.test(
      msg,
    )
  ) {
    return new PtTruncatedError(`${fileName}: the zip archive is truncated or corrupt (${msg}); copy the file again`, {
      cause: err,
    });
  }
  return new PtZipError(`${fileName}: not a readable zip archive (${msg})`, { cause: err });
}

/**
 * yauzl reads through our FileHandle (its own fd reader would close the fd when done); closing is ours.
 * Only `read` is used: we never ask yauzl for entry streams.
 */
class HandleReader extends yauzl.RandomAccessReader {
  constructor(private readonly handle: FileHandle) {
    super();
  }
  override _readStreamForRange(start: number, end: number): Readable {
    const handle = this.handle;
    let pos = start;
    return new Readable({
      read(size) {
        const n = Math.min(size, end - pos);
        if (n <= 0) {
          this.push(null);
          return;
        }
        const buf = Buffer.alloc(n);
        handle.read(buf, 0, n, pos).then(
          ({ bytesRead }) => {
            if (bytesRead === 0) {
              this.destroy(new Error('unexpected EOF'));
              return;
            }
            pos += bytesRead;
            this.push(buf.subarray(0, bytesRead));
          },
          (err: Error) => this.destroy(err),
        );
      },
    });
  }
  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null, bytesRead?: number) => void,
  ): void {
    this.handle.read(buffer, offset, length, position).then(
      ({ bytesRead }) => callback(null, bytesRead),
      (err: Error) => callback(err),
    );
  }
  override close(callback: (err: Error | null) => void): void {
    setImmediate(() => callback(null));
  }
}

export class ZipArchive {
  readonly entries = new Map<string, ZipEntryInfo>();
  /** Entry names in central-directory order. */
  readonly order: string[] = [];
  #closed = false;
  readonly #dataStart = new Map<string, Promise<number>>();

  private constructor(
    readonly fileName: string,
    readonly handle: FileHandle,
    readonly fileSize: number,
    private readonly zip: yauzl.ZipFile,
  ) {}

  static async open(fileName: string, handle: FileHandle, fileSize: number): Promise<ZipArchive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.fromRandomAccessReaderPromise(new HandleReader(handle), fileSize, {
        lazyEntries: true,
        autoClose: false,
        decodeStrings: true,
        validateEntrySizes: true,
        strictFileNames: true,
      });
    } catch (err) {
      throw mapYauzlError(fileName, err);
    }
    const archive = new ZipArchive(fileName, handle, fileSize, zip);
    try {
      for await (const entry of zip.eachEntry()) {
        const name = entry.fileName;
        const why = unsafeEntryName(name);
        if (why)
          throw new PtZipError(`${fileName}: zip entry ${JSON.stringify(name)} ${why}; refusing to read this archive`);
        if (entry.isEncrypted()) throw new PtZipError(`${fileName}: zip entry ${name} is encrypted`);
        if (entry.compressionMethod !== 0 && entry.compressionMethod !== 8) {
          throw new PtZipError(
            `${fileName}: zip entry ${name} uses compression method ${entry.compressionMethod} (only stored and deflate are supported)`,
          );
        }
        if (entry.compressionMethod === 0 && entry.compressedSize !== entry.uncompressedSize) {
          throw new PtZipError(
            `${fileName}: stored zip entry ${name} claims ${entry.uncompressedSize} bytes but holds ${entry.compressedSize}`,
          );
        }
        if (entry.relativeOffsetOfLocalHeader + 30 + entry.compressedSize > fileSize) {
          throw new PtTruncatedError(
            `${fileName}: zip entry ${name} extends past the end of the file; the file is truncated`,
          );
        }
        if (archive.entries.has(name)) throw new PtZipError(`${fileName}: zip entry ${name} appears twice`);
        archive.entries.set(name, {
          name,
          compressionMethod: entry.compressionMethod,
          compressedSize: entry.compressedSize,
          uncompressedSize: entry.uncompressedSize,
          entry,
        });
        archive.order.push(name);
      }
    } catch (err) {
      zip.close();
      if (err instanceof PtZipError || err instanceof PtTruncatedError) throw err;
      throw mapYauzlError(fileName, err);
    }
    return archive;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #checkOpen(): void {
    if (this.#closed) throw new PtClosedError(`${this.fileName} was closed; read tensors before PtFile.close()`);
  }

  /** File offset of an entry's data (reads and checks its local header once). */
  dataStart(info: ZipEntryInfo): Promise<number> {
    let p = this.#dataStart.get(info.name);
    if (!p) {
      p = this.zip.readLocalFileHeaderPromise(info.entry, { minimal: true }).then(
        (h) => h.fileDataStart,
        (err: unknown) => {
          throw mapYauzlError(this.fileName, err);
        },
      );
      this.#dataStart.set(info.name, p);
    }
    return p;
  }

  async #pread(position: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    this.#checkOpen();
    // Unpooled and not zero-filled (every byte is overwritten below, or we throw); a plain Uint8Array view
    // of its own ArrayBuffer, so callers' `.slice()` copies and `.buffer` holds only this data.
    let out = into;
    if (out === undefined) {
      const raw = Buffer.allocUnsafeSlow(length);
      out = new Uint8Array(raw.buffer, raw.byteOffset, length);
    }
    let done = 0;
    while (done < length) {
      const { bytesRead } = await this.handle.read(out, done, Math.min(length - done, 1 << 30), position + done);
      if (bytesRead === 0)
        throw new PtTruncatedError(
          `${this.fileName}: file ends at byte ${position + done}, inside a zip entry; the file is truncated`,
        );
      done += bytesRead;
    }
    return out;
  }

  /** Bytes [offset, offset+length) of an entry's uncompressed data (into `into`, exactly `length` long, if given). */
  async readRange(info: ZipEntryInfo, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    this.#checkOpen();
    checkEntryRead(this.fileName, info, offset, length, into);
    if (length === 0) return into ?? new Uint8Array(0);
    if (info.compressionMethod === 0) return this.#pread((await this.dataStart(info)) + offset, length, into);
    return this.#inflateRange(info, offset, length, into);
  }

  /** The whole entry (refuses entries larger than `maxBytes`). */
  async readAll(info: ZipEntryInfo, maxBytes: number): Promise<Uint8Array> {
    checkEntryLimit(this.fileName, info, maxBytes);
    return this.readRange(info, 0, info.uncompressedSize);
  }

  /** Streams a deflated entry, keeping only the requested window (never more than `length` bytes). */
  async #inflateRange(info: ZipEntryInfo, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const start = await this.dataStart(info);
    const win = new InflateWindow(into ?? new Uint8Array(length), offset, length, info, this.fileName);
    const inflate = createInflateRaw();
    const chunk = 1 << 20;
    let readPos = 0;
    const done = new Promise<void>((resolve, reject) => {
      inflate.on('data', (buf: Buffer) => {
        const err = win.push(buf);
        if (err) reject(err);
      });
      inflate.on('end', resolve);
      inflate.on('error', (err) =>
        reject(new PtZipError(`${this.fileName}: zip entry ${info.name} is corrupt (${err.message})`, { cause: err })),
      );
    });
    done.catch(() => undefined); // observed below; avoid an unhandled rejection when we stop early
    try {
      while (readPos < info.compressedSize && win.filled < length) {
        const n = Math.min(chunk, info.compressedSize - readPos);
        const b = await this.#pread(start + readPos, n);
        readPos += n;
        // Wait for drain, but wake on an inflate error too (a destroyed stream never drains).
        if (!inflate.write(b)) await Promise.race([new Promise((r) => inflate.once('drain', r)), done]);
      }
      if (win.filled < length) {
        inflate.end();
        await done;
      }
    } finally {
      inflate.destroy();
    }
    return win.checkFilled();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.zip.close();
  }
}
