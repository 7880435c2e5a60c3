// openpi's wire format: msgpack maps whose numpy arrays are maps with BINARY keys
// {b"__ndarray__": True, b"data": <bin>, b"dtype": "<f4", b"shape": [..]} and numpy scalars
// {b"__npgeneric__": True, b"data": x, b"dtype": "<f4"}. Python's msgpack packs bytes keys as
// msgpack bin, so replies must use bin keys too or openpi clients will not decode them.
import { Packr, Unpackr } from 'msgpackr';
import { BadRequestError } from '../errors.js';
import { checkIntegerShapes } from './int-shapes.js';
import { makeNdArray, NdArray, NpGeneric } from './ndarray.js';

/** A decoded message: string-keyed maps, arrays, scalars, strings, bytes, ndarrays. */
export type WireValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | NdArray
  | NpGeneric
  | WireValue[]
  | { [key: string]: WireValue };

export type WireMap = { [key: string]: WireValue };

const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: 'bigint' });
const packr = new Packr({ useRecords: false, variableMapSize: true });

const keyBytes = (k: string): Buffer => Buffer.from(k, 'latin1');
const K_NDARRAY = keyBytes('__ndarray__');
const K_NPGENERIC = keyBytes('__npgeneric__');
const K_DATA = keyBytes('data');
const K_DTYPE = keyBytes('dtype');
const K_SHAPE = keyBytes('shape');

/** Decodes one request frame. Throws BadRequestError for anything malformed. */
export function unpackMessage(frame: Uint8Array): WireMap {
  let raw: unknown;
  try {
    raw = unpackr.unpack(frame);
  } catch (err) {
    throw new BadRequestError(`malformed msgpack request: ${(err as Error).message}`, { cause: err });
  }
  const value = fromRaw(raw, 0);
  // msgpackr hands a float 8.0 back as 8: check the wire types of ndarray shapes on the raw bytes.
  checkIntegerShapes(frame);
  if (
    value === null ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    value instanceof Uint8Array ||
    value instanceof NdArray ||
    value instanceof NpGeneric
  ) {
    throw new BadRequestError('a request must be a msgpack map of observation keys (e.g. "observation/state")');
  }
  return value as WireMap;
}

/** Encodes a reply (or the metadata) exactly as openpi's msgpack_numpy Packer would. */
export function packMessage(value: WireMap): Uint8Array {
  return packr.pack(toRaw(value));
}

const MAX_DEPTH = 64;

function keyString(k: unknown): string {
  if (typeof k === 'string') return k;
  if (k instanceof Uint8Array) return Buffer.from(k.buffer, k.byteOffset, k.byteLength).toString('utf8');
  if (typeof k === 'number' || typeof k === 'bigint') return String(k);
  throw new BadRequestError(`unsupported msgpack map key of type ${typeof k}`);
}

function fromRaw(raw: unknown, depth: number): WireValue {
  if (depth > MAX_DEPTH) throw new BadRequestError(`request nests deeper than ${MAX_DEPTH} levels`);
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'boolean' || typeof raw === 'number' || typeof raw === 'bigint' || typeof raw === 'string')
    return raw;
  if (raw instanceof Uint8Array) return raw;
  if (Array.isArray(raw)) return raw.map((v) => fromRaw(v, depth + 1));
  if (raw instanceof Map) {
    const obj: { [key: string]: unknown } = Object.create(null);
    for (const [k, v] of raw) obj[keyString(k)] = v;
    if (obj['__ndarray__'] !== undefined) return ndarrayFrom(obj);
    if (obj['__npgeneric__'] !== undefined) return npgenericFrom(obj);
    const out: WireMap = {};
    for (const [k, v] of Object.entries(obj)) out[k] = fromRaw(v, depth + 1);
    return out;
  }
  throw new BadRequestError(`unsupported msgpack value of type ${Object.prototype.toString.call(raw)}`);
}

function ndarrayFrom(obj: { [key: string]: unknown }): NdArray {
  const { data, dtype, shape } = obj;
  if (!(data instanceof Uint8Array)) throw new BadRequestError('ndarray field "data" must be msgpack bin bytes');
  if (typeof dtype !== 'string')
    throw new BadRequestError('ndarray field "dtype" must be a numpy dtype string such as "<f4"');
  if (!Array.isArray(shape)) throw new BadRequestError('ndarray field "shape" must be a list of integers');
  const dims = shape.map((d) => (typeof d === 'bigint' ? Number(d) : d));
  if (!dims.every((d): d is number => typeof d === 'number'))
    throw new BadRequestError('ndarray field "shape" must be a list of integers');
  // Copy out of the frame buffer so the array owns aligned memory.
  return makeNdArray(dtype, dims, new Uint8Array(data));
}

function npgenericFrom(obj: { [key: string]: unknown }): NpGeneric {
  const { data, dtype } = obj;
  if (typeof dtype !== 'string') throw new BadRequestError('npgeneric field "dtype" must be a numpy dtype string');
  if (typeof data !== 'number' && typeof data !== 'bigint' && typeof data !== 'boolean') {
    throw new BadRequestError('npgeneric field "data" must be a number or bool');
  }
  return new NpGeneric(dtype, data);
}

function toRaw(value: WireValue): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  if (Array.isArray(value)) return value.map(toRaw);
  if (value instanceof NdArray) {
    return new Map<Buffer, unknown>([
      [K_NDARRAY, true],
      [K_DATA, Buffer.from(value.data.buffer, value.data.byteOffset, value.data.byteLength)],
      [K_DTYPE, value.dtype],
      [K_SHAPE, [...value.shape]],
    ]);
  }
  if (value instanceof NpGeneric) {
    const g = value;
    return new Map<Buffer, unknown>([
      [K_NPGENERIC, true],
      [K_DATA, g.value],
      [K_DTYPE, g.dtype],
    ]);
  }
  const out: { [key: string]: unknown } = {};
  for (const [k, v] of Object.entries(value)) out[k] = toRaw(v as WireValue);
  return out;
}
