// numpy arrays as openpi's msgpack_numpy carries them: raw bytes + numpy dtype string + shape.
import { BadRequestError } from '../errors.js';

/** A numpy array on the wire: `data` holds `shape`'s elements in C order, typed by `dtype`. */
export class NdArray {
  constructor(
    /** numpy's `dtype.str`, e.g. `<f4`, `|u1`, `<i8`, `|b1`. */
    readonly dtype: string,
    readonly shape: readonly number[],
    readonly data: Uint8Array,
  ) {}
}

/** A numpy scalar (`np.float32(1.5)` …) as msgpack_numpy sends it (`__npgeneric__`). */
export class NpGeneric {
  constructor(
    readonly dtype: string,
    readonly value: number | bigint | boolean,
  ) {}
}

const DTYPE_RE = /^([<>|=])([fiub])(1|2|4|8)$/;

/** Item size in bytes of a numpy dtype string; throws BadRequestError for dtypes we do not carry. */
export function itemSize(dtype: string): number {
  const m = DTYPE_RE.exec(dtype);
  if (!m) {
    throw new BadRequestError(
      `unsupported numpy dtype ${JSON.stringify(dtype)}: send numeric arrays (e.g. <f4, |u1, <i8); object, void and complex arrays are not accepted`,
    );
  }
  const kind = m[2]!;
  const size = Number(m[3]);
  if (kind === 'f' && size === 1) throw new BadRequestError(`unsupported numpy dtype ${dtype}`);
  if (kind === 'b' && size !== 1) throw new BadRequestError(`unsupported numpy dtype ${dtype}`);
  return size;
}

/** Validates and builds an NdArray; the byte length must equal prod(shape) × itemsize. */
export function makeNdArray(dtype: string, shape: readonly number[], data: Uint8Array): NdArray {
  const size = itemSize(dtype);
  let count = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) {
      throw new BadRequestError(
        `invalid ndarray shape ${JSON.stringify(shape)}: dimensions must be non-negative integers`,
      );
    }
    count *= d;
  }
  if (count * size !== data.byteLength) {
    throw new BadRequestError(
      `ndarray of dtype ${dtype} and shape [${shape.join(', ')}] needs ${count * size} bytes but carries ${data.byteLength}`,
    );
  }
  return new NdArray(dtype, [...shape], data);
}

/** An NdArray holding float32 values (dtype `<f4`). */
export function float32NdArray(values: Float32Array, shape: readonly number[]): NdArray {
  return makeNdArray('<f4', shape, new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
}

/** An NdArray holding uint8 values (dtype `|u1`), e.g. an H×W×3 image. */
export function uint8NdArray(values: Uint8Array, shape: readonly number[]): NdArray {
  return makeNdArray('|u1', shape, values);
}

export function isNdArray(value: unknown): value is NdArray {
  return value instanceof NdArray;
}

/**
 * The array's values as float64 numbers in C order, whatever its numeric dtype (byte order
 * honoured). Used to check and convert observations; returns a fresh Float64Array.
 */
export function ndArrayToFloat64(arr: NdArray): Float64Array {
  const m = DTYPE_RE.exec(arr.dtype);
  if (!m) throw new BadRequestError(`unsupported numpy dtype ${arr.dtype}`);
  const little = m[1] !== '>';
  const kind = m[2]!;
  const size = Number(m[3]);
  const n = arr.data.byteLength / size;
  const out = new Float64Array(n);
  const view = new DataView(arr.data.buffer, arr.data.byteOffset, arr.data.byteLength);
  for (let i = 0; i < n; i++) {
    const o = i * size;
    switch (`${kind}${size}`) {
      case 'f2':
        out[i] = halfToFloat(view.getUint16(o, little));
        break;
      case 'f4':
        out[i] = view.getFloat32(o, little);
        break;
      case 'f8':
        out[i] = view.getFloat64(o, little);
        break;
      case 'u1':
      case 'b1':
        out[i] = view.getUint8(o);
        break;
      case 'i1':
        out[i] = view.getInt8(o);
        break;
      case 'u2':
        out[i] = view.getUint16(o, little);
        break;
      case 'i2':
        out[i] = view.getInt16(o, little);
        break;
      case 'u4':
        out[i] = view.getUint32(o, little);
        break;
      case 'i4':
        out[i] = view.getInt32(o, little);
        break;
      case 'u8':
        out[i] = Number(view.getBigUint64(o, little));
        break;
      case 'i8':
        out[i] = Number(view.getBigInt64(o, little));
        break;
      default:
        throw new BadRequestError(`unsupported numpy dtype ${arr.dtype}`);
    }
  }
  return out;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}
