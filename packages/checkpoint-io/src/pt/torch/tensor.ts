// torch tensors as torch.load rebuilds them, without their data: dtype, shape, strides and a window into a shared
// storage. Bytes are read on demand, only the range asked for.
import type { RawTensor } from '../../dtype/dtypes.js';
import { toFloat32 } from '../../dtype/convert.js';
import { isRangeInside } from '../../source/byte-source.js';
import { PtTorchObjectError, PtUnsupportedDtypeError } from '../errors.js';
import type { PickleValue } from '../pickle/values.js';
import { TORCH_DTYPE_ITEMSIZE, swapUnit, torchToSafetensorsDtype, type TorchDtype } from './dtypes.js';
import { byteswap, target, type TorchStorage } from './storage.js';

function checkDims(v: number[], what: string, file: string): void {
  for (const d of v) {
    if (!Number.isSafeInteger(d) || d < 0)
      throw new PtTorchObjectError(
        `${file}: tensor ${what} ${JSON.stringify(v)} has an entry that is not a non-negative integer`,
      );
  }
}

/**
 * A tensor as torch.load would rebuild it, without its data: dtype, shape, strides and a window into a shared
 * storage. `readBytes()` / `readElements()` fetch data on demand.
 */
export class TorchTensor {
  /** True when pickled as torch.nn.Parameter. */
  isParameter = false;
  requiresGrad: boolean;
  /** Tensor metadata dict of _rebuild_tensor_v2 (conj/neg bits), or the state of a Parameter / subclass. */
  metadata: PickleValue | undefined = undefined;
  /** State set by BUILD or _rebuild_*_with_state (attributes on a Parameter or tensor subclass). */
  pythonState: PickleValue | undefined = undefined;
  /** The Python class when the tensor was a subclass (from _rebuild_from_type_v2), else undefined. */
  pythonClass: string | undefined = undefined;
  readonly numel: number;

  constructor(
    readonly storage: TorchStorage,
    readonly dtype: TorchDtype,
    readonly shape: number[],
    readonly stride: number[],
    /** In elements of `dtype`. */
    readonly storageOffset: number,
    requiresGrad = false,
  ) {
    const file = storage.fileName;
    this.requiresGrad = requiresGrad;
    checkDims(shape, 'size', file);
    checkDims(stride, 'stride', file);
    if (shape.length !== stride.length) {
      throw new PtTorchObjectError(
        `${file}: tensor size ${JSON.stringify(shape)} and stride ${JSON.stringify(stride)} differ in length`,
      );
    }
    if (!Number.isSafeInteger(storageOffset) || storageOffset < 0) {
      throw new PtTorchObjectError(`${file}: tensor storage offset ${storageOffset} is not a non-negative integer`);
    }
    let n = 1;
    let last = storageOffset; // highest element index the tensor touches
    for (let i = 0; i < shape.length; i++) {
      n *= shape[i] as number;
      if (!Number.isSafeInteger(n))
        throw new PtTorchObjectError(`${file}: tensor size ${JSON.stringify(shape)} overflows`);
    }
    this.numel = n;
    if (n > 0) {
      for (let i = 0; i < shape.length; i++) last += ((shape[i] as number) - 1) * (stride[i] as number);
      const itemsize = TORCH_DTYPE_ITEMSIZE[dtype];
      const capacity = Math.floor(storage.nbytes / itemsize);
      if (!Number.isSafeInteger(last) || last >= capacity) {
        throw new PtTorchObjectError(
          `${file}: tensor of size ${JSON.stringify(shape)}, stride ${JSON.stringify(stride)}, offset ${storageOffset} reaches element ${last} of storage ${storage.key} which holds ${capacity} ${dtype} elements; the file is corrupt`,
        );
      }
    }
  }

  get itemsize(): number {
    return TORCH_DTYPE_ITEMSIZE[this.dtype];
  }

  get byteLength(): number {
    return this.numel * this.itemsize;
  }

  get device(): string {
    return this.storage.device;
  }

  /** Row-major contiguous (dims of size 1 may have any stride, as in torch). */
  get isContiguous(): boolean {
    if (this.numel === 0) return true;
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      const d = this.shape[i] as number;
      if (d !== 1 && this.stride[i] !== expected) return false;
      expected *= d;
    }
    return true;
  }

  /**
   * The whole tensor as contiguous row-major little-endian bytes (views are gathered from their storage).
   * With `into`, the bytes land in its first `byteLength` bytes (reusing a buffer avoids the page faults of a
   * fresh allocation, which dominate on some VMs) and that subarray is returned.
   */
  readBytes(into?: Uint8Array): Promise<Uint8Array> {
    return this.readElements(0, this.numel, into);
  }

  /**
   * Elements [start, start+count) in row-major order, little-endian. For a contiguous tensor this reads only that
   * byte range of the storage record; for a view, only the span of the storage those elements touch. With `into`,
   * the bytes land in its first count × itemsize bytes.
   */
  async readElements(start: number, count: number, into?: Uint8Array): Promise<Uint8Array> {
    if (!isRangeInside(start, count, this.numel)) {
      throw new PtTorchObjectError(`readElements(${start}, ${count}) is outside the tensor's ${this.numel} elements`);
    }
    const isz = this.itemsize;
    const dest = target(into, count * isz);
    if (count === 0) return dest ?? new Uint8Array(0);
    let out: Uint8Array;
    if (this.isContiguous) {
      out = await this.storage.readRaw((this.storageOffset + start) * isz, count * isz, dest);
    } else {
      out = await this.#gather(start, count, dest);
    }
    if (this.storage.bigEndian) byteswap(out, swapUnit(this.dtype));
    return out;
  }

  async #gather(start: number, count: number, dest: Uint8Array | undefined): Promise<Uint8Array> {
    const isz = this.itemsize;
    const nd = this.shape.length;
    const shape = this.shape;
    const stride = this.stride;
    // Odometer over the multi-index of `start`.
    const idx = new Array<number>(nd).fill(0);
    let rem = start;
    for (let i = nd - 1; i >= 0; i--) {
      const d = shape[i] as number;
      idx[i] = rem % d;
      rem = Math.floor(rem / d);
    }
    const offsets = new Float64Array(count);
    let cur = this.storageOffset;
    for (let i = 0; i < nd; i++) cur += (idx[i] as number) * (stride[i] as number);
    let lo = Infinity;
    let hi = -1;
    for (let k = 0; k < count; k++) {
      offsets[k] = cur;
      if (cur < lo) lo = cur;
      if (cur > hi) hi = cur;
      for (let i = nd - 1; i >= 0; i--) {
        const v = (idx[i] as number) + 1;
        if (v < (shape[i] as number)) {
          idx[i] = v;
          cur += stride[i] as number;
          break;
        }
        idx[i] = 0;
        cur -= ((shape[i] as number) - 1) * (stride[i] as number);
      }
    }
    const span = await this.storage.readRaw(lo * isz, (hi - lo + 1) * isz);
    const out = dest ?? new Uint8Array(count * isz);
    for (let k = 0; k < count; k++) {
      const from = ((offsets[k] as number) - lo) * isz;
      out.set(span.subarray(from, from + isz), k * isz);
    }
    return out;
  }

  /** The tensor in safetensors terms (dtype name, shape, contiguous little-endian bytes). */
  async toRaw(): Promise<RawTensor> {
    const dtype = torchToSafetensorsDtype(this.dtype);
    if (dtype === undefined) {
      throw new PtUnsupportedDtypeError(`a ${this.dtype} tensor has no safetensors dtype; convert it in PyTorch first`);
    }
    return { dtype, shape: [...this.shape], bytes: await this.readBytes() };
  }

  /** The values as float32 (bf16/f16/f64/int/bool converted). */
  async readFloat32(): Promise<Float32Array> {
    return toFloat32(await this.toRaw());
  }
}
