// Lazily read torch storages. Opening a file binds each storage to a byte range of the file; bytes are read
// only when a tensor asks for them, and only the range it needs.
import { isRangeInside } from '../../source/byte-source.js';
import { PtClosedError, PtFormatError, PtTorchObjectError, PtTruncatedError } from '../errors.js';
import { TORCH_DTYPE_ITEMSIZE, swapUnit, type TorchDtype } from './dtypes.js';

/**
 * Where a storage's bytes live: `read` returns exactly `byteLength` bytes from `byteOffset` (file byte order),
 * in `into` (its first `byteLength` bytes) when given.
 */
export interface StorageSource {
  readonly byteLength: number;
  readonly bigEndian: boolean;
  read(byteOffset: number, byteLength: number, into?: Uint8Array): Promise<Uint8Array>;
}

/** Checks a caller's target buffer and returns the part a read of `n` bytes fills. */
export function target(into: Uint8Array | undefined, n: number): Uint8Array | undefined {
  if (into === undefined) return undefined;
  if (into.byteLength < n)
    throw new PtTorchObjectError(`target buffer of ${into.byteLength} bytes is smaller than the ${n} bytes to read`);
  return into.subarray(0, n);
}

/** Swaps each `unit`-byte scalar of `b` in place (big-endian file data → little-endian). */
export function byteswap(b: Uint8Array, unit: number): void {
  if (unit <= 1) return;
  for (let i = 0; i + unit <= b.length; i += unit) {
    for (let lo = i, hi = i + unit - 1; lo < hi; lo++, hi--) {
      const t = b[lo] as number;
      b[lo] = b[hi] as number;
      b[hi] = t;
    }
  }
}

/** One torch storage (a flat buffer of `numel` elements of `dtype`), shared by every tensor that views it. */
export class TorchStorage {
  #source: StorageSource | undefined;
  #view: { base: TorchStorage; byteOffset: number } | undefined;

  constructor(
    /** The key torch saved it under (`data/<key>` in a zip; the legacy format's storage key). */
    readonly key: string,
    readonly dtype: TorchDtype,
    readonly numel: number,
    /** The device it was saved from ("cpu", "cuda:0"); nothing here moves data to devices. */
    readonly device: string,
    /** Name of the file, for messages. */
    readonly fileName: string,
  ) {}

  get nbytes(): number {
    return this.numel * TORCH_DTYPE_ITEMSIZE[this.dtype];
  }

  /** @internal binds the storage to its bytes (done by the format readers). */
  bind(source: StorageSource): void {
    if (source.byteLength < this.nbytes) {
      throw new PtTruncatedError(
        `${this.fileName}: storage ${this.key} needs ${this.nbytes} bytes (${this.numel} × ${this.dtype}) but its record holds ${source.byteLength}; the file is truncated or corrupt`,
      );
    }
    this.#source = source;
  }

  /** @internal makes this storage a view of `base` starting at `byteOffset` (legacy view_metadata). */
  bindView(base: TorchStorage, byteOffset: number): void {
    this.#view = { base, byteOffset };
  }

  get isBound(): boolean {
    return this.#source !== undefined || (this.#view !== undefined && this.#view.base.isBound);
  }

  get bigEndian(): boolean {
    if (this.#view) return this.#view.base.bigEndian;
    return this.#source?.bigEndian ?? false;
  }

  /** @internal raw bytes in file byte order; bounds-checked against this storage. */
  readRaw(byteOffset: number, byteLength: number, into?: Uint8Array): Promise<Uint8Array> {
    if (!isRangeInside(byteOffset, byteLength, this.nbytes)) {
      return Promise.reject(
        new PtTorchObjectError(
          `${this.fileName}: read of bytes [${byteOffset}, ${byteOffset + byteLength}) outside storage ${this.key} (${this.nbytes} bytes)`,
        ),
      );
    }
    if (byteLength === 0) return Promise.resolve(new Uint8Array(0));
    if (this.#view) return this.#view.base.readRaw(this.#view.byteOffset + byteOffset, byteLength, into);
    if (!this.#source) {
      return Promise.reject(new PtFormatError(`${this.fileName}: storage ${this.key} has no data record in the file`));
    }
    return this.#source.read(byteOffset, byteLength, into);
  }

  /** Bytes [byteOffset, byteOffset+byteLength) of the storage, little-endian (into `into` when given). */
  async readBytes(byteOffset = 0, byteLength = this.nbytes - byteOffset, into?: Uint8Array): Promise<Uint8Array> {
    const b = await this.readRaw(byteOffset, byteLength, target(into, byteLength));
    if (this.bigEndian) byteswap(b, swapUnit(this.dtype));
    return b;
  }
}

/** Guard for reads after close. */
export function closedSource(fileName: string): StorageSource {
  return {
    byteLength: Number.MAX_SAFE_INTEGER,
    bigEndian: false,
    read: () => Promise.reject(new PtClosedError(`${fileName} was closed; read tensors before PtFile.close()`)),
  };
}
