// RawTensor <-> Float32Array for every dtype (tfjs computes in float32).
import { DTYPE_ITEMSIZE, numel, type Dtype, type RawTensor } from './dtypes.js';
import { DtypeConversionError } from './errors.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
import { f8e4m3ToF32, f8e5m2ToF32 } from './fp8.js';

// the host's byte order, without node:os (this module also runs in browsers)
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) {
  throw new DtypeConversionError('@vla-lora/checkpoint-io needs a little-endian host (tensor files are little-endian)');
}

/** Throws unless `bytes.length` equals numel(shape) × itemsize(dtype). */
export function checkRawTensor(t: RawTensor, what = 'tensor'): void {
  const size = DTYPE_ITEMSIZE[t.dtype];
  if (size === undefined) throw new DtypeConversionError(`${what}: unknown dtype ${String(t.dtype)}`);
  const expected = numel(t.shape) * size;
  if (t.bytes.byteLength !== expected) {
    throw new DtypeConversionError(
      `${what}: ${t.dtype} ${JSON.stringify(t.shape)} needs ${expected} bytes but has ${t.bytes.byteLength}`,
    );
  }
}

/** A view of `bytes` whose byteOffset is a multiple of `align` (copies only when it is not). */
export function aligned(bytes: Uint8Array, align: number): Uint8Array {
  if (bytes.byteOffset % align === 0) return bytes;
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** Converts any dtype to float32 (ints and F64 as Number(x) then rounded to float32, BOOL as 0/1). */
export function toFloat32(t: RawTensor): Float32Array {
  checkRawTensor(t);
  const n = numel(t.shape);
  const b = aligned(t.bytes, DTYPE_ITEMSIZE[t.dtype]);
  const buf = b.buffer;
  const off = b.byteOffset;
  switch (t.dtype) {
    case 'F32':
      return new Float32Array(buf.slice(off, off + n * 4));
    case 'F16':
      return f16ToF32(new Uint16Array(buf, off, n));
    case 'BF16':
      return bf16ToF32(new Uint16Array(buf, off, n));
    case 'F64':
      return Float32Array.from(new Float64Array(buf, off, n));
    case 'I32':
      return Float32Array.from(new Int32Array(buf, off, n));
    case 'U32':
      return Float32Array.from(new Uint32Array(buf, off, n));
    case 'I16':
      return Float32Array.from(new Int16Array(buf, off, n));
    case 'U16':
      return Float32Array.from(new Uint16Array(buf, off, n));
    case 'I8':
      return Float32Array.from(new Int8Array(buf, off, n));
    case 'U8':
      return Float32Array.from(new Uint8Array(buf, off, n));
    case 'BOOL': {
      const src = new Uint8Array(buf, off, n);
      const dst = new Float32Array(n);
      for (let i = 0; i < n; i++) dst[i] = src[i] === 0 ? 0 : 1;
      return dst;
    }
    case 'I64': {
      const src = new BigInt64Array(buf, off, n);
      const dst = new Float32Array(n);
      for (let i = 0; i < n; i++) dst[i] = Number(src[i]!);
      return dst;
    }
    case 'U64': {
      const src = new BigUint64Array(buf, off, n);
      const dst = new Float32Array(n);
      for (let i = 0; i < n; i++) dst[i] = Number(src[i]!);
      return dst;
    }
    case 'F8_E4M3':
      return f8e4m3ToF32(new Uint8Array(buf, off, n));
    case 'F8_E5M2':
      return f8e5m2ToF32(new Uint8Array(buf, off, n));
  }
}

/** The dtypes `fromFloat32` produces. */
export type FloatDtype = 'F32' | 'F16' | 'BF16' | 'F64';

/** Encodes float32 values as a RawTensor of `dtype` (F16/BF16 round to nearest even). */
export function fromFloat32(data: Float32Array, shape: number[], dtype: FloatDtype): RawTensor {
  const n = numel(shape);
  if (data.length !== n) {
    throw new DtypeConversionError(
      `fromFloat32: ${data.length} values do not fill shape ${JSON.stringify(shape)} (${n})`,
    );
  }
  let bytes: Uint8Array;
  switch (dtype) {
    case 'F32': {
      const copy = new Float32Array(data);
      bytes = new Uint8Array(copy.buffer);
      break;
    }
    case 'F16':
      bytes = new Uint8Array(f32ToF16(data).buffer);
      break;
    case 'BF16':
      bytes = new Uint8Array(f32ToBf16(data).buffer);
      break;
    case 'F64':
      bytes = new Uint8Array(Float64Array.from(data).buffer);
      break;
    default:
      throw new DtypeConversionError(`fromFloat32: cannot encode to ${String(dtype)}; use F32, F16, BF16 or F64`);
  }
  return { dtype, shape: [...shape], bytes };
}

/** Converts a tensor to another float dtype (identity when it already is that dtype). */
export function castFloat(t: RawTensor, dtype: FloatDtype): RawTensor {
  if (t.dtype === dtype) return t;
  if (t.dtype === 'F32' && (dtype === 'BF16' || dtype === 'F16')) {
    // straight from the bytes (no float32 copy): halves peak memory when streaming big tensors
    checkRawTensor(t);
    const b = aligned(t.bytes, 4);
    const src = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
    const out = dtype === 'BF16' ? f32ToBf16(src) : f32ToF16(src);
    return { dtype, shape: [...t.shape], bytes: new Uint8Array(out.buffer) };
  }
  return fromFloat32(toFloat32(t), t.shape, dtype);
}

export type { Dtype };
