// The safetensors dtype names, their item sizes, and the in-memory tensor record every module shares.

/** Every dtype safetensors defines (and this package reads and writes). */
export type Dtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U8'
  | 'U16'
  | 'U32'
  | 'U64'
  | 'BOOL'
  | 'F8_E4M3'
  | 'F8_E5M2';

/** Bytes per element of each dtype. */
export const DTYPE_ITEMSIZE: Readonly<Record<Dtype, number>> = Object.freeze({
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  U16: 2,
  U32: 4,
  U64: 8,
  BOOL: 1,
  F8_E4M3: 1,
  F8_E5M2: 1,
});

/** All dtype names, in the order the Rust safetensors library ranks them (ascending alignment). */
export const DTYPES: readonly Dtype[] = Object.freeze([
  'BOOL',
  'U8',
  'I8',
  'F8_E5M2',
  'F8_E4M3',
  'I16',
  'U16',
  'F16',
  'BF16',
  'I32',
  'U32',
  'F32',
  'F64',
  'I64',
  'U64',
] as Dtype[]);

const RANK: ReadonlyMap<string, number> = new Map(DTYPES.map((d, i) => [d, i]));

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && RANK.has(value);
}

/** Bytes per element of `dtype`. */
export function itemsize(dtype: Dtype): number {
  return DTYPE_ITEMSIZE[dtype];
}

/** Position of `dtype` in the Rust library's `Dtype` enum order (used to lay files out identically). */
export function dtypeRank(dtype: Dtype): number {
  return RANK.get(dtype) ?? -1;
}

/** A tensor as bytes: little-endian, row-major (C order), exactly numel × itemsize bytes. */
export interface RawTensor {
  dtype: Dtype;
  shape: number[];
  bytes: Uint8Array;
}

/** Number of elements of a shape (1 for a 0-d scalar). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
