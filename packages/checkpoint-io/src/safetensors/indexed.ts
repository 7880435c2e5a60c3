// What both safetensors readers (SafetensorsFile on a Node file handle, SafetensorsSourceFile on any ByteSource)
// do once the header is parsed: the tensor index, lookups, bounds of byte-range reads, float32 conversion and
// file-order streaming. They differ only in how bytes are read. No node: imports (the browser reader uses it).
import { toFloat32 } from '../dtype/convert.js';
import type { RawTensor } from '../dtype/dtypes.js';
import { isRangeInside } from '../source/byte-source.js';
import { SafetensorsError, TensorNotFoundError } from './errors.js';
import type { TensorInfo, TensorSlot } from './header.js';

export abstract class IndexedSafetensors {
  protected readonly byName: Map<string, TensorSlot>;
  abstract readonly path: string;

  protected constructor(
    readonly metadata: Record<string, string> | null,
    protected readonly slots: TensorSlot[],
    /** Absolute offset of the data section (8 + header length). */
    readonly dataStart: number,
  ) {
    this.byName = new Map(slots.map((s) => [s.name, s]));
  }

  abstract read(name: string): Promise<RawTensor>;

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

  protected slot(name: string): TensorSlot {
    const s = this.byName.get(name);
    if (!s) throw new TensorNotFoundError(this.path, name);
    return s;
  }

  info(name: string): TensorInfo {
    const s = this.slot(name);
    return { name: s.name, dtype: s.dtype, shape: [...s.shape], byteLength: s.byteLength };
  }

  /** Absolute offset of bytes [start, start + length) of tensor `name`; refuses a range outside the tensor. */
  protected rangeStart(name: string, start: number, length: number): number {
    const s = this.slot(name);
    if (!isRangeInside(start, length, s.byteLength)) {
      throw new SafetensorsError(
        this.path,
        `readBytes(${JSON.stringify(name)}, ${start}, ${length}) is outside the tensor's ${s.byteLength} bytes`,
      );
    }
    return this.dataStart + s.dataOffsets[0] + start;
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
}
