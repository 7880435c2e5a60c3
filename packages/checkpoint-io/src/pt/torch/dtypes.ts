// torch dtypes and storage classes: names, item sizes, and the safetensors names they map to.
import type { Dtype } from '../../dtype/dtypes.js';

/** torch dtype names (without the `torch.` prefix). */
export type TorchDtype =
  | 'float64'
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'uint16'
  | 'uint32'
  | 'uint64'
  | 'bool'
  | 'complex32'
  | 'complex64'
  | 'complex128'
  | 'float8_e4m3fn'
  | 'float8_e5m2'
  | 'float8_e4m3fnuz'
  | 'float8_e5m2fnuz'
  | 'qint8'
  | 'quint8'
  | 'qint32'
  | 'quint4x2'
  | 'quint2x4';

export const TORCH_DTYPE_ITEMSIZE: Readonly<Record<TorchDtype, number>> = Object.freeze({
  float64: 8,
  float32: 4,
  float16: 2,
  bfloat16: 2,
  int64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  uint16: 2,
  uint32: 4,
  uint64: 8,
  bool: 1,
  complex32: 4,
  complex64: 8,
  complex128: 16,
  float8_e4m3fn: 1,
  float8_e5m2: 1,
  float8_e4m3fnuz: 1,
  float8_e5m2fnuz: 1,
  qint8: 1,
  quint8: 1,
  qint32: 4,
  quint4x2: 1,
  quint2x4: 1,
});

/** Bytes of one scalar to byte-swap for big-endian data (complex numbers swap each half). */
export function swapUnit(dtype: TorchDtype): number {
  const size = TORCH_DTYPE_ITEMSIZE[dtype];
  return dtype.startsWith('complex') ? size / 2 : size;
}

/** Legacy storage class name (torch.FloatStorage, torch.cuda.HalfStorage, ...) → dtype. */
export const STORAGE_CLASS_DTYPE: ReadonlyMap<string, TorchDtype> = new Map<string, TorchDtype>([
  ['DoubleStorage', 'float64'],
  ['FloatStorage', 'float32'],
  ['HalfStorage', 'float16'],
  ['BFloat16Storage', 'bfloat16'],
  ['LongStorage', 'int64'],
  ['IntStorage', 'int32'],
  ['ShortStorage', 'int16'],
  ['CharStorage', 'int8'],
  ['ByteStorage', 'uint8'],
  ['BoolStorage', 'bool'],
  ['ComplexFloatStorage', 'complex64'],
  ['ComplexDoubleStorage', 'complex128'],
  ['QInt8Storage', 'qint8'],
  ['QUInt8Storage', 'quint8'],
  ['QInt32Storage', 'qint32'],
  ['QUInt4x2Storage', 'quint4x2'],
  ['QUInt2x4Storage', 'quint2x4'],
  // torch 2.x: an untyped storage is bytes; the tensor's dtype comes from _rebuild_tensor_v3.
  ['UntypedStorage', 'uint8'],
]);

/** The storage class torch pickles for a dtype (the inverse of STORAGE_CLASS_DTYPE for typed storages). */
export const DTYPE_STORAGE_CLASS: ReadonlyMap<TorchDtype, string> = new Map(
  [...STORAGE_CLASS_DTYPE].filter(([cls]) => cls !== 'UntypedStorage').map(([cls, d]) => [d, cls]),
);

/** `torch.<name>` dtype attributes (with torch's aliases) → dtype. */
export const TORCH_DTYPE_ATTR: ReadonlyMap<string, TorchDtype> = new Map<string, TorchDtype>([
  ['float64', 'float64'],
  ['double', 'float64'],
  ['float32', 'float32'],
  ['float', 'float32'],
  ['float16', 'float16'],
  ['half', 'float16'],
  ['bfloat16', 'bfloat16'],
  ['int64', 'int64'],
  ['long', 'int64'],
  ['int32', 'int32'],
  ['int', 'int32'],
  ['int16', 'int16'],
  ['short', 'int16'],
  ['int8', 'int8'],
  ['uint8', 'uint8'],
  ['uint16', 'uint16'],
  ['uint32', 'uint32'],
  ['uint64', 'uint64'],
  ['bool', 'bool'],
  ['complex32', 'complex32'],
  ['chalf', 'complex32'],
  ['complex64', 'complex64'],
  ['cfloat', 'complex64'],
  ['complex128', 'complex128'],
  ['cdouble', 'complex128'],
  ['float8_e4m3fn', 'float8_e4m3fn'],
  ['float8_e5m2', 'float8_e5m2'],
  ['float8_e4m3fnuz', 'float8_e4m3fnuz'],
  ['float8_e5m2fnuz', 'float8_e5m2fnuz'],
  ['qint8', 'qint8'],
  ['quint8', 'quint8'],
  ['qint32', 'qint32'],
  ['quint4x2', 'quint4x2'],
  ['quint2x4', 'quint2x4'],
]);

const TO_SAFETENSORS: Partial<Record<TorchDtype, Dtype>> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint8: 'U8',
  uint16: 'U16',
  uint32: 'U32',
  uint64: 'U64',
  bool: 'BOOL',
  float8_e4m3fn: 'F8_E4M3',
  float8_e5m2: 'F8_E5M2',
};

/** The safetensors dtype of a torch dtype, or undefined (complex, quantized, fnuz floats). */
export function torchToSafetensorsDtype(dtype: TorchDtype): Dtype | undefined {
  return TO_SAFETENSORS[dtype];
}

/** The torch dtype of a safetensors dtype. */
export function safetensorsToTorchDtype(dtype: Dtype): TorchDtype {
  for (const [t, s] of Object.entries(TO_SAFETENSORS)) if (s === dtype) return t as TorchDtype;
  /* c8 ignore next */
  throw new Error(`unreachable: ${dtype}`);
}

export function isTorchDtype(value: unknown): value is TorchDtype {
  return typeof value === 'string' && Object.hasOwn(TORCH_DTYPE_ITEMSIZE, value);
}
