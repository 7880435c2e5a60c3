// Writes data.pkl the way torch.save does: pickle protocol 2, tensors as _rebuild_tensor_v2 (or v3 for dtypes
// without a legacy storage class) over persistent-id storages, OrderedDict via REDUCE, bytes via _codecs.encode.
import type { RawTensor } from '../dtype/dtypes.js';
import { PtWriteError } from './errors.js';
import {
  DTYPE_STORAGE_CLASS,
  TORCH_DTYPE_ITEMSIZE,
  isTorchDtype,
  safetensorsToTorchDtype,
  type TorchDtype,
} from './dtypes.js';
import { TorchStorage, TorchTensor } from './tensor.js';
import {
  PickleDict,
  PickleGlobal,
  PickleObject,
  PickleSet,
  PickleTuple,
  TorchSize,
  type PickleValue,
} from './values.js';

/** A Python float, for values that must stay floats even when integral (`new PyFloat(1)` pickles as 1.0). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Tensor data to write: little-endian row-major bytes (or a function that produces them when written). */
export class PtTensorData {
  readonly numel: number;
  constructor(
    readonly dtype: TorchDtype,
    readonly shape: number[],
    readonly bytes: Uint8Array | (() => Promise<Uint8Array>),
    readonly options: { requiresGrad?: boolean; parameter?: boolean } = {},
  ) {
    if (!isTorchDtype(dtype)) throw new PtWriteError(`unknown torch dtype ${String(dtype)}`);
    let n = 1;
    for (const d of shape) {
      if (!Number.isSafeInteger(d) || d < 0)
        throw new PtWriteError(`tensor shape ${JSON.stringify(shape)} has an entry that is not a non-negative integer`);
      n *= d;
    }
    if (!Number.isSafeInteger(n * TORCH_DTYPE_ITEMSIZE[dtype]))
      throw new PtWriteError(`tensor shape ${JSON.stringify(shape)} is too large`);
    this.numel = n;
    if (bytes instanceof Uint8Array && bytes.byteLength !== this.byteLength) {
      throw new PtWriteError(
        `${dtype} tensor ${JSON.stringify(shape)} needs ${this.byteLength} bytes but was given ${bytes.byteLength}`,
      );
    }
  }
  get byteLength(): number {
    return this.numel * TORCH_DTYPE_ITEMSIZE[this.dtype];
  }
  /** From a safetensors-style RawTensor (F32, BF16, I64, ...). */
  static fromRaw(raw: RawTensor, options?: { requiresGrad?: boolean; parameter?: boolean }): PtTensorData {
    return new PtTensorData(safetensorsToTorchDtype(raw.dtype), [...raw.shape], raw.bytes, options);
  }
}

/** What writePt accepts. Plain objects and Maps are written as dicts; PickleDict keeps its `ordered` flag. */
export type PtWritable =
  | PickleValue
  | PyFloat
  | PtTensorData
  | PtWritable[]
  | Map<string | number | bigint | boolean | null, PtWritable>
  | { [key: string]: PtWritable };

/** A tuple of writable values (PickleTuple's static type only admits read values). */
export function ptTuple(...items: PtWritable[]): PickleTuple {
  return new PickleTuple(items as PickleValue[]);
}

/** A dict of writable values; `ordered` writes a collections.OrderedDict (what state_dict() returns). */
export function ptDict(entries: Iterable<[PtWritable, PtWritable]>, ordered = false): PickleDict {
  return new PickleDict(ordered, entries as Iterable<[PickleValue, PickleValue]>);
}

/** A storage record to write: `data/<key>`, `nbytes` long. */
export interface StorageRecord {
  key: string;
  nbytes: number;
  /** Little-endian bytes of [offset, offset+length). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

// torch ≥ 2.1 pickles these dtypes with _rebuild_tensor_v3 over an UntypedStorage.
const V3_DTYPES: ReadonlySet<TorchDtype> = new Set<TorchDtype>([
  'uint16',
  'uint32',
  'uint64',
  'complex32',
  'float8_e4m3fn',
  'float8_e5m2',
  'float8_e4m3fnuz',
  'float8_e5m2fnuz',
]);

const MAX_DEPTH = 1000;

class Out {
  buf = new Uint8Array(1 << 16);
  len = 0;
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf[this.len++] = v & 0xff;
    this.buf[this.len++] = (v >>> 8) & 0xff;
  }
  u32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer).setUint32(this.len, v, true);
    this.len += 4;
  }
  i32(v: number): void {
    this.ensure(4);
    new DataView(this.buf.buffer).setInt32(this.len, v, true);
    this.len += 4;
  }
  f64be(v: number): void {
    this.ensure(8);
    new DataView(this.buf.buffer).setFloat64(this.len, v, false);
    this.len += 8;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Minimal two's-complement little-endian encoding of an int (Python's pickle.encode_long). */
export function encodeLong(v: bigint): Uint8Array {
  if (v === 0n) return new Uint8Array(0);
  const out: number[] = [];
  let x = v;
  // Emit bytes until the remaining value is the sign extension of the last byte.
  for (;;) {
    const byte = Number(x & 0xffn);
    out.push(byte);
    x >>= 8n;
    if ((x === 0n && (byte & 0x80) === 0) || (x === -1n && (byte & 0x80) !== 0)) break;
  }
  return Uint8Array.from(out);
}

function isPlainObject(v: unknown): v is Record<string, PtWritable> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Serialises `value` to a protocol-2 pickle; storages found on the way are returned in key order. */
export function picklePt(value: PtWritable): { pickle: Uint8Array; storages: StorageRecord[] } {
  const out = new Out();
  const memo = new Map<unknown, number>();
  const globals = new Map<string, number>();
  const storages: StorageRecord[] = [];
  const storageKeys = new Map<TorchStorage, { key: string; dtype: TorchDtype }>();
  const utf8 = new TextEncoder();

  const put = (obj: unknown): void => {
    const idx = memo.size + globals.size;
    if (obj !== undefined) memo.set(obj, idx);
    if (idx < 256) {
      out.byte(0x71); // BINPUT
      out.byte(idx);
    } else {
      out.byte(0x72); // LONG_BINPUT
      out.u32(idx);
    }
  };
  const get = (idx: number): void => {
    if (idx < 256) {
      out.byte(0x68);
      out.byte(idx);
    } else {
      out.byte(0x6a);
      out.u32(idx);
    }
  };
  const global = (module: string, name: string): void => {
    const k = `${module}\n${name}`;
    const at = globals.get(k);
    if (at !== undefined) return get(at);
    out.byte(0x63); // GLOBAL
    out.bytes(utf8.encode(`${module}\n${name}\n`));
    const idx = memo.size + globals.size;
    globals.set(k, idx);
    if (idx < 256) {
      out.byte(0x71);
      out.byte(idx);
    } else {
      out.byte(0x72);
      out.u32(idx);
    }
  };
  const str = (s: string): void => {
    const b = utf8.encode(s);
    out.byte(0x58); // BINUNICODE
    out.u32(b.length);
    out.bytes(b);
  };
  const int = (v: number | bigint): void => {
    if (typeof v === 'number' && v >= 0 && v <= 0xff) {
      out.byte(0x4b);
      out.byte(v);
    } else if (typeof v === 'number' && v >= 0 && v <= 0xffff) {
      out.byte(0x4d);
      out.u16(v);
    } else if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff) {
      out.byte(0x4a);
      out.i32(v);
    } else {
      const b = encodeLong(BigInt(v));
      if (b.length < 256) {
        out.byte(0x8a); // LONG1
        out.byte(b.length);
      } else {
        out.byte(0x8b); // LONG4
        out.i32(b.length);
      }
      out.bytes(b);
    }
  };
  const float = (v: number): void => {
    out.byte(0x47); // BINFLOAT
    out.f64be(v);
  };
  const emptyOrderedDict = (): void => {
    global('collections', 'OrderedDict');
    out.byte(0x29); // EMPTY_TUPLE
    out.byte(0x52); // REDUCE
  };
  const tupleOf = (emit: Array<() => void>): void => {
    if (emit.length === 0) return out.byte(0x29);
    if (emit.length <= 3) {
      for (const e of emit) e();
      out.byte([0x85, 0x86, 0x87][emit.length - 1] as number);
      return;
    }
    out.byte(0x28); // MARK
    for (const e of emit) e();
    out.byte(0x74); // TUPLE
  };
  const ints = (xs: number[]): Array<() => void> => xs.map((x) => () => int(x));

  const storageFor = (t: TorchTensor): { key: string; cls: string; numel: number; v3: boolean } => {
    const v3 = V3_DTYPES.has(t.dtype);
    const dtype: TorchDtype = v3 ? 'uint8' : t.dtype;
    const s = t.storage;
    let rec = storageKeys.get(s);
    if (rec && rec.dtype !== dtype) {
      throw new PtWriteError(
        `storage ${s.key} is viewed as both ${rec.dtype} and ${dtype}; torch.save cannot express that either — clone the tensors first`,
      );
    }
    const itemsize = TORCH_DTYPE_ITEMSIZE[dtype];
    if (s.nbytes % itemsize !== 0)
      throw new PtWriteError(`storage ${s.key} (${s.nbytes} bytes) is not a whole number of ${dtype} elements`);
    if (!rec) {
      rec = { key: String(storages.length), dtype };
      storageKeys.set(s, rec);
      const storage = s;
      storages.push({
        key: rec.key,
        nbytes: s.nbytes,
        read: (off, len) =>
          storage.readBytes(off, len).then((b) => (b.buffer.byteLength === b.byteLength ? b : b.slice())),
      });
    }
    return {
      key: rec.key,
      cls: v3 ? 'UntypedStorage' : (DTYPE_STORAGE_CLASS.get(dtype) as string),
      numel: s.nbytes / itemsize,
      v3,
    };
  };

  const writeTensor = (meta: {
    key: string;
    cls: string;
    numel: number;
    v3: boolean;
    dtype: TorchDtype;
    offset: number;
    shape: number[];
    stride: number[];
    requiresGrad: boolean;
    parameter: boolean;
  }): void => {
    if (meta.parameter) global('torch._utils', '_rebuild_parameter');
    global('torch._utils', meta.v3 ? '_rebuild_tensor_v3' : '_rebuild_tensor_v2');
    out.byte(0x28); // MARK (args of the rebuild function)
    // persistent id ('storage', storage_type, key, location, numel)
    out.byte(0x28);
    str('storage');
    global('torch', meta.cls);
    str(meta.key);
    str('cpu');
    int(meta.numel);
    out.byte(0x74);
    out.byte(0x51); // BINPERSID
    int(meta.offset);
    tupleOf(ints(meta.shape));
    tupleOf(ints(meta.stride));
    out.byte(meta.requiresGrad && !meta.parameter ? 0x88 : 0x89);
    emptyOrderedDict();
    if (meta.v3) global('torch', meta.dtype);
    out.byte(0x74); // TUPLE
    out.byte(0x52); // REDUCE
    if (meta.parameter) {
      out.byte(meta.requiresGrad ? 0x88 : 0x89);
      emptyOrderedDict();
      out.byte(0x87); // TUPLE3 (data, requires_grad, backward_hooks)
      out.byte(0x52);
    }
  };

  const contiguousStrides = (shape: number[]): number[] => {
    const s = new Array<number>(shape.length);
    let acc = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      s[i] = acc;
      acc *= shape[i] as number;
    }
    return s;
  };

  const save = (v: PtWritable | undefined, depth: number, path: string): void => {
    if (depth > MAX_DEPTH)
      throw new PtWriteError(`value nested deeper than ${MAX_DEPTH} levels at ${path} (a cycle through a tuple?)`);
    if (v === undefined) throw new PtWriteError(`undefined at ${path}: use null for Python None`);
    if (v === null) return out.byte(0x4e);
    if (v === true) return out.byte(0x88);
    if (v === false) return out.byte(0x89);
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) return int(v);
      return float(v);
    }
    if (typeof v === 'bigint') return int(v);
    if (typeof v === 'string') return str(v);
    if (v instanceof PyFloat) return float(v.value);
    const seen = memo.get(v);
    if (seen !== undefined) return get(seen);
    if (v instanceof Uint8Array) {
      global('_codecs', 'encode');
      str(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'));
      str('latin1');
      out.byte(0x86);
      out.byte(0x52);
      return put(v);
    }
    if (Array.isArray(v)) {
      out.byte(0x5d); // EMPTY_LIST
      put(v);
      for (let i = 0; i < v.length; i += 1000) {
        const batch = v.slice(i, i + 1000);
        if (batch.length === 1) {
          save(batch[0], depth + 1, `${path}[${i}]`);
          out.byte(0x61); // APPEND
        } else {
          out.byte(0x28);
          batch.forEach((x, j) => save(x, depth + 1, `${path}[${i + j}]`));
          out.byte(0x65); // APPENDS
        }
      }
      return;
    }
    if (v instanceof PickleTuple) {
      tupleOf(v.items.map((x, i) => () => save(x as PtWritable, depth + 1, `${path}(${i})`)));
      return put(v);
    }
    const dictEntries = (entries: Array<[PtWritable, PtWritable]>, ordered: boolean, obj: unknown): void => {
      if (ordered) emptyOrderedDict();
      else out.byte(0x7d); // EMPTY_DICT
      put(obj);
      for (let i = 0; i < entries.length; i += 1000) {
        const batch = entries.slice(i, i + 1000);
        if (batch.length === 1) {
          const [k, x] = batch[0] as [PtWritable, PtWritable];
          save(k, depth + 1, `${path}.<key>`);
          save(x, depth + 1, `${path}.${String(k)}`);
          out.byte(0x73); // SETITEM
        } else {
          out.byte(0x28);
          for (const [k, x] of batch) {
            save(k, depth + 1, `${path}.<key>`);
            save(x, depth + 1, `${path}.${String(k)}`);
          }
          out.byte(0x75); // SETITEMS
        }
      }
    };
    if (v instanceof PickleDict) return dictEntries(v.entries as Array<[PtWritable, PtWritable]>, v.ordered, v);
    if (v instanceof Map) return dictEntries([...v.entries()] as Array<[PtWritable, PtWritable]>, false, v);
    if (v instanceof TorchSize) {
      global('torch', 'Size');
      tupleOf(ints(v.dims));
      out.byte(0x85);
      out.byte(0x52);
      return put(v);
    }
    if (v instanceof PickleSet) {
      global('__builtin__', v.frozen ? 'frozenset' : 'set'); // as Python's protocol-2 pickler writes it (fix_imports)
      out.byte(0x5d);
      if (v.items.length > 0) {
        out.byte(0x28);
        v.items.forEach((x, i) => save(x as PtWritable, depth + 1, `${path}{${i}}`));
        out.byte(0x65);
      }
      out.byte(0x85);
      out.byte(0x52);
      return put(v);
    }
    if (v instanceof TorchTensor) {
      // v3 offsets count tensor-dtype elements of an untyped storage; v2 offsets count storage elements.
      const s = storageFor(v);
      writeTensor({
        ...s,
        dtype: v.dtype,
        offset: v.storageOffset,
        shape: v.shape,
        stride: v.stride,
        requiresGrad: v.requiresGrad,
        parameter: v.isParameter,
      });
      return put(v);
    }
    if (v instanceof PtTensorData) {
      const key = String(storages.length);
      const data = v.bytes;
      let cached: Promise<Uint8Array> | undefined;
      const whole = (): Promise<Uint8Array> =>
        (cached ??= (data instanceof Uint8Array ? Promise.resolve(data) : data()).then((b) => {
          if (b.byteLength !== v.byteLength)
            throw new PtWriteError(`${path}: tensor data is ${b.byteLength} bytes, expected ${v.byteLength}`);
          return b;
        }));
      storages.push({ key, nbytes: v.byteLength, read: async (off, len) => (await whole()).subarray(off, off + len) });
      const v3 = V3_DTYPES.has(v.dtype);
      writeTensor({
        key,
        cls: v3 ? 'UntypedStorage' : (DTYPE_STORAGE_CLASS.get(v.dtype) as string),
        numel: v3 ? v.byteLength : v.numel,
        v3,
        dtype: v.dtype,
        offset: 0,
        shape: v.shape,
        stride: contiguousStrides(v.shape),
        requiresGrad: v.options.requiresGrad ?? v.options.parameter ?? false,
        parameter: v.options.parameter ?? false,
      });
      return put(v);
    }
    if (v instanceof TorchStorage || v instanceof PickleGlobal || v instanceof PickleObject) {
      throw new PtWriteError(
        `${path}: a ${v.constructor.name} cannot be written (only plain data and tensors are; weights_only loaders refuse the rest)`,
      );
    }
    if (isPlainObject(v)) return dictEntries(Object.entries(v), false, v);
    throw new PtWriteError(`${path}: cannot write a ${(v as object).constructor?.name ?? typeof v}`);
  };

  out.byte(0x80);
  out.byte(2); // PROTO 2
  save(value, 0, '$');
  out.byte(0x2e); // STOP
  return { pickle: out.result(), storages };
}
