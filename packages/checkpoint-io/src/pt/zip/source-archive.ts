// A zip archive read through a ByteSource (Blob/File, URL, file): the end-of-central-directory record
// (zip64 too), the central directory, and each entry's local header, every length and offset checked;
// entry bytes are read on demand (a stored multi-GB entry costs one read of the range asked for). No
// node: imports and no zip library: the ones that run in browsers read whole archives or streams, not
// byte ranges of a 2 GB Blob. Deflated entries inflate with DecompressionStream('deflate-raw').
import type { ByteSource } from '../../source/byte-source.js';
import { PtClosedError, PtTruncatedError, PtZipError } from '../errors.js';
import { checkEntryLimit, checkEntryRead, InflateWindow, unsafeEntryName } from './entry-checks.js';

/** What a reader of torch zip archives needs of an entry (ZipArchive's entries have the same fields). */
export interface ZipEntryLike {
  readonly name: string;
  readonly compressionMethod: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
}

/** What readZipPt needs of an archive; ZipArchive (yauzl, Node) and SourceZipArchive (any ByteSource) both are. */
export interface ZipReader<E extends ZipEntryLike = ZipEntryLike> {
  readonly entries: ReadonlyMap<string, E>;
  readonly order: readonly string[];
  readRange(info: E, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  readAll(info: E, maxBytes: number): Promise<Uint8Array>;
  close(): void;
}

export interface SourceZipEntry extends ZipEntryLike {
  readonly localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const MAX_COMMENT = 0xffff;
/** Largest central directory read (a torch archive lists 3 + one entry per storage). */
const MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024;

const u16 = (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8);
const u32 = (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0;
function u64(b: Uint8Array, o: number, what: string, file: string): number {
  const n = u32(b, o) + u32(b, o + 4) * 2 ** 32;
  if (!Number.isSafeInteger(n)) throw new PtZipError(`${file}: zip64 ${what} ${n} is not a safe integer`);
  return n;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

export class SourceZipArchive implements ZipReader<SourceZipEntry> {
  readonly entries = new Map<string, SourceZipEntry>();
  readonly order: string[] = [];
  #closed = false;
  readonly #dataStart = new Map<string, Promise<number>>();

  private constructor(readonly source: ByteSource) {}

  get fileName(): string {
    return this.source.name;
  }

  static async open(source: ByteSource): Promise<SourceZipArchive> {
    const a = new SourceZipArchive(source);
    await a.#readDirectory();
    return a;
  }

  async #readDirectory(): Promise<void> {
    const { size, name: file } = this.source;
    if (size < 22) throw new PtTruncatedError(`${file}: ${size} bytes is too small for a zip archive; it is truncated`);
    const tailLen = Math.min(size, 22 + MAX_COMMENT + 20);
    const tail = await this.source.read(size - tailLen, tailLen);
    let eocd = -1;
    for (let i = tail.length - 22; i >= 0; i--) {
      if (u32(tail, i) === EOCD && i + 22 + u16(tail, i + 20) <= tail.length) {
        eocd = i;
        break;
      }
    }
    if (eocd < 0)
      throw new PtTruncatedError(
        `${file}: no zip end-of-central-directory record; the archive is truncated or not a zip`,
      );
    let count = u16(tail, eocd + 10);
    let cdSize = u32(tail, eocd + 12);
    let cdOffset = u32(tail, eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
      const loc = eocd - 20;
      if (loc < 0 || u32(tail, loc) !== ZIP64_LOCATOR)
        throw new PtZipError(`${file}: zip64 sizes without a zip64 end-of-central-directory locator`);
      const recOffset = u64(tail, loc + 8, 'record offset', file);
      if (recOffset + 56 > size) throw new PtTruncatedError(`${file}: zip64 end record lies past the end of the file`);
      const rec = await this.source.read(recOffset, 56);
      if (u32(rec, 0) !== ZIP64_EOCD) throw new PtZipError(`${file}: bad zip64 end-of-central-directory record`);
      count = u64(rec, 32, 'entry count', file);
      cdSize = u64(rec, 40, 'directory size', file);
      cdOffset = u64(rec, 48, 'directory offset', file);
    }
    if (cdOffset + cdSize > size)
      throw new PtTruncatedError(`${file}: the zip central directory runs past the end of the file; it is truncated`);
    if (cdSize > MAX_CENTRAL_DIRECTORY)
      throw new PtZipError(`${file}: zip central directory of ${cdSize} bytes is over the limit`);
    const cd = await this.source.read(cdOffset, cdSize);
    let p = 0;
    for (let i = 0; i < count; i++) {
      if (p + 46 > cd.length || u32(cd, p) !== CENTRAL)
        throw new PtZipError(`${file}: zip central directory entry ${i} is malformed`);
      const flags = u16(cd, p + 8);
      const method = u16(cd, p + 10);
      let compressedSize = u32(cd, p + 20);
      let uncompressedSize = u32(cd, p + 24);
      const nameLen = u16(cd, p + 28);
      const extraLen = u16(cd, p + 30);
      const commentLen = u16(cd, p + 32);
      let localHeaderOffset = u32(cd, p + 42);
      if (p + 46 + nameLen + extraLen + commentLen > cd.length)
        throw new PtZipError(`${file}: zip central directory entry ${i} runs past the directory`);
      const rawName = cd.subarray(p + 46, p + 46 + nameLen);
      let name: string;
      try {
        name = flags & 0x800 ? utf8.decode(rawName) : latin1.decode(rawName);
      } catch {
        throw new PtZipError(`${file}: zip entry ${i} has a name that is not valid UTF-8`);
      }
      // zip64 extended information: the 0xffffffff fields, in this order
      let e = p + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = u16(cd, e);
        const len = u16(cd, e + 2);
        if (e + 4 + len > extraEnd) throw new PtZipError(`${file}: zip entry ${name} has a malformed extra field`);
        if (id === 0x0001) {
          let q = e + 4;
          const take = (what: string) => {
            if (q + 8 > e + 4 + len) throw new PtZipError(`${file}: zip entry ${name}: zip64 field ${what} is missing`);
            const v = u64(cd, q, what, file);
            q += 8;
            return v;
          };
          if (uncompressedSize === 0xffffffff) uncompressedSize = take('uncompressed size');
          if (compressedSize === 0xffffffff) compressedSize = take('compressed size');
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take('local header offset');
        }
        e += 4 + len;
      }
      p += 46 + nameLen + extraLen + commentLen;
      const why = unsafeEntryName(name);
      if (why) throw new PtZipError(`${file}: zip entry ${JSON.stringify(name)} ${why}; refusing to read this archive`);
      if (flags & 0x1) throw new PtZipError(`${file}: zip entry ${name} is encrypted`);
      if (method !== 0 && method !== 8)
        throw new PtZipError(
          `${file}: zip entry ${name} uses compression method ${method} (only stored and deflate are supported)`,
        );
      if (method === 0 && compressedSize !== uncompressedSize)
        throw new PtZipError(
          `${file}: stored zip entry ${name} claims ${uncompressedSize} bytes but holds ${compressedSize}`,
        );
      if (localHeaderOffset + 30 + compressedSize > size)
        throw new PtTruncatedError(
          `${file}: zip entry ${name} extends past the end of the file; the file is truncated`,
        );
      if (this.entries.has(name)) throw new PtZipError(`${file}: zip entry ${name} appears twice`);
      this.entries.set(name, { name, compressionMethod: method, compressedSize, uncompressedSize, localHeaderOffset });
      this.order.push(name);
    }
  }

  #checkOpen(): void {
    if (this.#closed) throw new PtClosedError(`${this.fileName} was closed; read tensors before PtFile.close()`);
  }

  /** Offset of an entry's data (its local header is read and checked once). */
  dataStart(info: SourceZipEntry): Promise<number> {
    let p = this.#dataStart.get(info.name);
    if (!p) {
      p = (async () => {
        const h = await this.source.read(info.localHeaderOffset, 30);
        if (u32(h, 0) !== LOCAL)
          throw new PtZipError(`${this.fileName}: zip entry ${info.name} has a bad local header`);
        const start = info.localHeaderOffset + 30 + u16(h, 26) + u16(h, 28);
        if (start + info.compressedSize > this.source.size)
          throw new PtTruncatedError(`${this.fileName}: zip entry ${info.name} extends past the end of the file`);
        return start;
      })();
      this.#dataStart.set(info.name, p);
    }
    return p;
  }

  async readRange(info: SourceZipEntry, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    this.#checkOpen();
    checkEntryRead(this.fileName, info, offset, length, into);
    if (length === 0) return into ?? new Uint8Array(0);
    const bytes =
      info.compressionMethod === 0
        ? await this.source.read((await this.dataStart(info)) + offset, length)
        : await this.#inflateRange(info, offset, length);
    if (!into) return bytes;
    into.set(bytes);
    return into;
  }

  async readAll(info: SourceZipEntry, maxBytes: number): Promise<Uint8Array> {
    checkEntryLimit(this.fileName, info, maxBytes);
    return this.readRange(info, 0, info.uncompressedSize);
  }

  async #inflateRange(info: SourceZipEntry, offset: number, length: number): Promise<Uint8Array> {
    if (typeof DecompressionStream === 'undefined')
      throw new PtZipError(
        `${this.fileName}: zip entry ${info.name} is deflated and this runtime has no DecompressionStream`,
      );
    const start = await this.dataStart(info);
    const compressed = await this.source.read(start, info.compressedSize);
    const stream = new Blob([new Uint8Array(compressed)]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
    const reader = stream.getReader();
    const win = new InflateWindow(new Uint8Array(length), offset, length, info, this.fileName);
    try {
      while (win.filled < length) {
        const { done, value } = await reader.read();
        if (done) break;
        const err = win.push(value);
        if (err) throw err;
      }
    } catch (err) {
      if (err instanceof PtZipError) throw err;
      throw new PtZipError(`${this.fileName}: zip entry ${info.name} is corrupt (${(err as Error).message})`, {
        cause: err,
      });
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    return win.checkFilled();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    void this.source.close();
  }
}
