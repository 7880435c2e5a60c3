// A safetensors file read through a ByteSource (a Blob/File, a URL, a local file): the header is read
// and validated up front (two reads: the 8-byte length, then the header), each tensor's bytes on demand.
// No node: imports, so it runs in a browser.
import type { RawTensor } from '../dtype/dtypes.js';
import type { ByteSource } from '../source/byte-source.js';
import { ReaderClosedError, SafetensorsError } from './errors.js';
import { parseHeader, parseHeaderLength, type TensorSlot } from './header.js';
import { IndexedSafetensors } from './indexed.js';
import type { SafetensorsReader } from './reader.js';

/** A validated safetensors file behind a ByteSource. Create with `openSafetensorsSource(source)`. */
export class SafetensorsSourceFile extends IndexedSafetensors implements SafetensorsReader {
  private live: ByteSource | null;

  private constructor(
    readonly source: ByteSource,
    metadata: Record<string, string> | null,
    slots: TensorSlot[],
    /** Absolute offset of the data section (8 + header length). */
    dataStart: number,
  ) {
    super(metadata, slots, dataStart);
    this.live = source;
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
    const at = this.rangeStart(name, start, length);
    if (into && into.byteLength < length)
      throw new SafetensorsError(this.path, `buffer of ${into.byteLength} bytes cannot hold ${length}`);
    const bytes = await this.src().read(at, length);
    if (!into) return bytes;
    into.set(bytes);
    return into.subarray(0, length);
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
