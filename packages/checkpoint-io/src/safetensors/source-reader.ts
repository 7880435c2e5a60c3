// A safetensors file read through a ByteSource (a Blob/File, a URL, a local file): the header is read
// and validated up front (two reads: the 8-byte length, then the header), each tensor's bytes on demand.
// No node: imports, so it runs in a browser.
import { toFloat32 } from '../dtype/convert.js';
import type { RawTensor } from '../dtype/dtypes.js';
import type { ByteSource } from '../source/byte-source.js';
import { ReaderClosedError, SafetensorsError, TensorNotFoundError } from './errors.js';
import { parseHeader, parseHeaderLength, type TensorInfo, type TensorSlot } from './header.js';
import type { SafetensorsReader } from './reader.js';

/** A validated safetensors file behind a ByteSource. Create with `openSafetensorsSource(source)`. */
export class SafetensorsSourceFile implements SafetensorsReader {
  private live: ByteSource | null;
  private readonly byName: Map<string, TensorSlot>;

  private constructor(
    readonly source: ByteSource,
    readonly metadata: Record<string, string> | null,
    private readonly slots: TensorSlot[],
    /** Absolute offset of the data section (8 + header length). */
    readonly dataStart: number,
  ) {
    this.live = source;
    this.byName = new Map(slots.map((s) => [s.name, s]));
  }

  /** Reads and validates the header; closes the source if it is not a valid safetensors file. */
  static async open(source: ByteSource): Promise<SafetensorsSourceFile> {
    try {
      const { name, size } = source;
      const prefix = size >= 8 ? await source.read(0, 8) : new Uint8Array(0);
      const headerLength = parseHeaderLength(prefix, size, name);
      const header = parseHeader(await source.read(8, headerLength), size - 8 - headerLength, name);
      return new SafetensorsSourceFile(source, header.metadata, header.tensors, 8 + headerLength);
    } catch (err) {
      await source.close();
      throw err;
    }
  }

  get path(): string {
    return this.source.name;
  }

  get fileSize(): number {
    return this.source.size;
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

  private slot(name: string): TensorSlot {
    const s = this.byName.get(name);
    if (!s) throw new TensorNotFoundError(this.path, name);
    return s;
  }

  info(name: string): TensorInfo {
    const s = this.slot(name);
    return { name: s.name, dtype: s.dtype, shape: [...s.shape], byteLength: s.byteLength };
  }

  private src(): ByteSource {
    if (!this.live) throw new ReaderClosedError(this.path, 'reader already closed; open the file again');
    return this.live;
  }

  async read(name: string): Promise<RawTensor> {
    const s = this.slot(name);
    const bytes = await this.src().read(this.dataStart + s.dataOffsets[0], s.byteLength);
    return { dtype: s.dtype, shape: [...s.shape], bytes };
  }

  async readBytes(name: string, start: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
    const s = this.slot(name);
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
    if (into && into.byteLength < length)
      throw new SafetensorsError(this.path, `buffer of ${into.byteLength} bytes cannot hold ${length}`);
    const bytes = await this.src().read(this.dataStart + s.dataOffsets[0] + start, length);
    if (!into) return bytes;
    into.set(bytes);
    return into.subarray(0, length);
  }

  async readFloat32(name: string): Promise<Float32Array> {
    const t = await this.read(name);
    if (t.dtype === 'F32' && t.bytes.byteOffset % 4 === 0)
      return new Float32Array(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength / 4);
    return toFloat32(t);
  }

  async *tensors(): AsyncIterable<[string, RawTensor]> {
    for (const s of this.slots) yield [s.name, await this.read(s.name)];
  }

  async close(): Promise<void> {
    const s = this.live;
    this.live = null;
    await s?.close();
  }
}

/** Opens a safetensors file behind any ByteSource (Blob/File, URL, local file), validating its header. */
export function openSafetensorsSource(source: ByteSource): Promise<SafetensorsSourceFile> {
  return SafetensorsSourceFile.open(source);
}
