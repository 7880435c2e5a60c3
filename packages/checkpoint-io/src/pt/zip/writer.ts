// Writes a zip archive the way torch's PyTorchStreamWriter (miniz) does: stored entries, data aligned to 64 bytes
// through an "FB" padding extra field, a data descriptor after each entry (so data streams through once while its
// CRC-32 is computed), zip64 records when sizes or offsets pass 4 GiB.
import { crc32 } from 'node:zlib';
import { PtWriteError } from '../errors.js';

export const ALIGNMENT = 64;
const U32_MAX = 0xffffffff;

export interface ZipSink {
  write(data: Uint8Array): Promise<void>;
}

interface CentralRecord {
  name: Uint8Array;
  offset: number;
  size: number;
  crc: number;
  zip64: boolean;
}

function le(n: number, bytes: number): number[] {
  const out: number[] = [];
  let v = BigInt(n);
  for (let i = 0; i < bytes; i++) {
    out.push(Number(v & 0xffn));
    v >>= 8n;
  }
  return out;
}

export class ZipStreamWriter {
  #offset = 0;
  readonly #records: CentralRecord[] = [];
  readonly #names = new Set<string>();
  #finished = false;

  /** `zip64Threshold` exists for tests: entries/offsets at or above it get zip64 records (default 2^32 − 1). */
  constructor(
    private readonly sink: ZipSink,
    private readonly zip64Threshold = U32_MAX,
  ) {}

  async #emit(b: Uint8Array | number[]): Promise<void> {
    const u = b instanceof Uint8Array ? b : Uint8Array.from(b);
    await this.sink.write(u);
    this.#offset += u.byteLength;
  }

  /**
   * Adds a stored entry of exactly `size` bytes produced by `chunks` (in order). The entry's data starts at a
   * multiple of 64 bytes, as torch requires for memory-mapped loading.
   */
  async addEntry(name: string, size: number, chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<void> {
    if (this.#finished) throw new PtWriteError('zip archive already finished');
    if (this.#names.has(name)) throw new PtWriteError(`zip entry ${name} written twice`);
    this.#names.add(name);
    const nameBytes = new TextEncoder().encode(name);
    const offset = this.#offset;
    const zip64 = size >= this.zip64Threshold || offset >= this.zip64Threshold;
    const zip64Extra = zip64 ? [...le(1, 2), ...le(16, 2), ...le(0, 8), ...le(0, 8)] : [];
    const start = offset + 30 + nameBytes.length + zip64Extra.length + 4;
    const padding = (ALIGNMENT - (start % ALIGNMENT)) % ALIGNMENT;
    const fb = [0x46, 0x42, ...le(padding, 2), ...new Array<number>(padding).fill(0x5a)];
    const header = [
      ...le(0x04034b50, 4),
      ...le(zip64 ? 45 : 0, 2), // version needed
      ...le(0x0808, 2), // data descriptor follows; UTF-8 names
      ...le(0, 2), // stored
      ...le(0, 2), // time
      ...le(0, 2), // date
      ...le(0, 4), // crc (in the descriptor)
      ...le(zip64 ? U32_MAX : 0, 4),
      ...le(zip64 ? U32_MAX : 0, 4),
      ...le(nameBytes.length, 2),
      ...le(zip64Extra.length + fb.length, 2),
    ];
    await this.#emit(header);
    await this.#emit(nameBytes);
    await this.#emit([...zip64Extra, ...fb]);
    if (this.#offset % ALIGNMENT !== 0) throw new PtWriteError('internal: zip entry data is not 64-byte aligned');
    let crc = 0;
    let written = 0;
    for await (const chunk of chunks) {
      if (written + chunk.byteLength > size)
        throw new PtWriteError(`zip entry ${name}: more than the declared ${size} bytes`);
      crc = crc32(chunk, crc);
      await this.#emit(chunk);
      written += chunk.byteLength;
    }
    if (written !== size) throw new PtWriteError(`zip entry ${name}: ${written} bytes written, ${size} declared`);
    await this.#emit([...le(0x08074b50, 4), ...le(crc, 4), ...le(size, zip64 ? 8 : 4), ...le(size, zip64 ? 8 : 4)]);
    this.#records.push({ name: nameBytes, offset, size, crc, zip64 });
  }

  /** Writes the central directory and the end records. */
  async finish(): Promise<void> {
    if (this.#finished) throw new PtWriteError('zip archive already finished');
    this.#finished = true;
    const cdStart = this.#offset;
    for (const r of this.#records) await this.#centralRecord(r);
    const cdSize = this.#offset - cdStart;
    const count = this.#records.length;
    const zip64 = count >= 0xffff || cdStart >= U32_MAX || cdSize >= U32_MAX || this.#records.some((r) => r.zip64);
    if (zip64) await this.#zip64End(count, cdSize, cdStart);
    await this.#emit([
      ...le(0x06054b50, 4),
      ...le(0, 2),
      ...le(0, 2),
      ...le(zip64 ? 0xffff : count, 2),
      ...le(zip64 ? 0xffff : count, 2),
      ...le(zip64 ? U32_MAX : cdSize, 4),
      ...le(zip64 ? U32_MAX : cdStart, 4),
      ...le(0, 2),
    ]);
  }

  /** One central directory file header (zip64 extra field when the size or offset needs it). */
  async #centralRecord(r: CentralRecord): Promise<void> {
    const bigSize = r.size >= U32_MAX || (r.zip64 && r.size >= this.zip64Threshold);
    const bigOffset = r.offset >= U32_MAX || (r.zip64 && r.offset >= this.zip64Threshold);
    const extraFields = [
      ...(bigSize ? [...le(r.size, 8), ...le(r.size, 8)] : []),
      ...(bigOffset ? le(r.offset, 8) : []),
    ];
    const extra = extraFields.length > 0 ? [...le(1, 2), ...le(extraFields.length, 2), ...extraFields] : [];
    await this.#emit([
      ...le(0x02014b50, 4),
      ...le(r.zip64 ? 45 : 0, 2), // version made by
      ...le(r.zip64 ? 45 : 0, 2), // version needed
      ...le(0x0808, 2),
      ...le(0, 2),
      ...le(0, 2),
      ...le(0, 2),
      ...le(r.crc, 4),
      ...le(bigSize ? U32_MAX : r.size, 4),
      ...le(bigSize ? U32_MAX : r.size, 4),
      ...le(r.name.length, 2),
      ...le(extra.length, 2),
      ...le(0, 2), // comment
      ...le(0, 2), // disk
      ...le(0, 2), // internal attributes
      ...le(0, 4), // external attributes
      ...le(bigOffset ? U32_MAX : r.offset, 4),
    ]);
    await this.#emit(r.name);
    if (extra.length > 0) await this.#emit(extra);
  }

  /** The zip64 end of central directory record and its locator. */
  async #zip64End(count: number, cdSize: number, cdStart: number): Promise<void> {
    const eocd64 = this.#offset;
    await this.#emit([
      ...le(0x06064b50, 4),
      ...le(44, 8),
      ...le(45, 2),
      ...le(45, 2),
      ...le(0, 4),
      ...le(0, 4),
      ...le(count, 8),
      ...le(count, 8),
      ...le(cdSize, 8),
      ...le(cdStart, 8),
    ]);
    await this.#emit([...le(0x07064b50, 4), ...le(0, 4), ...le(eocd64, 8), ...le(1, 4)]);
  }
}
