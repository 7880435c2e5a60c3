// Writes data.pkl the way torch.save does: pickle protocol 2, tensors as _rebuild_tensor_v2 (or v3 for dtypes
// without a legacy storage class) over persistent-id storages, OrderedDict via REDUCE, bytes via _codecs.encode.
// The opcode-level encoding (memo, ints, strings, tuples) is pickle/writer.ts.
import type { RawTensor } from '../../dtype/dtypes.js';
import { PtWriteError } from '../errors.js';
import {
  DTYPE_STORAGE_CLASS,
  TORCH_DTYPE_ITEMSIZE,
  isTorchDtype,
  safetensorsToTorchDtype,
  type TorchDtype,
} from './dtypes.js';
import { OP } from '../pickle/opcodes.js';
import { PickleDict, PickleGlobal, PickleObject, PickleSet, PickleTuple, type PickleValue } from '../pickle/values.js';
import { PickleWriter } from '../pickle/writer.js';
import { TorchStorage } from './storage.js';
import { TorchTensor } from './tensor.js';
import { TorchSize } from './values.js';

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
/** Items per APPENDS / SETITEMS batch (CPython's _BATCHSIZE). */
const BATCH = 1000;

function isPlainObject(v: unknown): v is Record<string, PtWritable> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function contiguousStrides(shape: number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i] as number;
  }
  return s;
}

/** What the pickle says about one tensor: its storage's persistent id and the rebuild call's arguments. */
interface TensorRecord {
  key: string;
  /** Storage class (FloatStorage, ..., UntypedStorage for v3). */
  cls: string;
  /** Elements of the storage (bytes for an untyped storage). */
  numel: number;
  v3: boolean;
  dtype: TorchDtype;
  offset: number;
  shape: number[];
  stride: number[];
  requiresGrad: boolean;
  parameter: boolean;
}

type Entries = Array<[PtWritable, PtWritable]>;

/** One torch.save pickling: the opcode writer plus the storages met on the way. */
class TorchPickler {
  readonly w = new PickleWriter();
  readonly storages: StorageRecord[] = [];
  readonly #storageKeys = new Map<TorchStorage, { key: string; dtype: TorchDtype }>();

  /** collections.OrderedDict() */
  emptyOrderedDict(): void {
    this.w.global('collections', 'OrderedDict');
    this.w.op(OP.EMPTY_TUPLE);
    this.w.op(OP.REDUCE);
  }

  save(v: PtWritable | undefined, depth: number, path: string): void {
    if (depth > MAX_DEPTH)
      throw new PtWriteError(`value nested deeper than ${MAX_DEPTH} levels at ${path} (a cycle through a tuple?)`);
    if (v === undefined) throw new PtWriteError(`undefined at ${path}: use null for Python None`);
    if (v === null) return this.w.op(OP.NONE);
    if (v === true) return this.w.op(OP.NEWTRUE);
    if (v === false) return this.w.op(OP.NEWFALSE);
    if (typeof v === 'number') {
      if (Number.isSafeInteger(v) && !Object.is(v, -0)) return this.w.int(v);
      return this.w.float(v);
    }
    if (typeof v === 'bigint') return this.w.int(v);
    if (typeof v === 'string') return this.w.str(v);
    if (v instanceof PyFloat) return this.w.float(v.value);
    const seen = this.w.memo.get(v);
    if (seen !== undefined) return this.w.get(seen);
    this.#saveObject(v, depth, path);
  }

  #saveObject(v: PtWritable & object, depth: number, path: string): void {
    if (v instanceof Uint8Array) return this.#saveBytes(v);
    if (Array.isArray(v)) return this.#saveList(v, depth, path);
    if (v instanceof PickleTuple) {
      this.w.tuple(v.items.map((x, i) => () => this.save(x as PtWritable, depth + 1, `${path}(${i})`)));
      return this.w.put(v);
    }
    if (v instanceof PickleDict) return this.#saveDict(v.entries as Entries, v.ordered, v, depth, path);
    if (v instanceof Map) return this.#saveDict([...v.entries()] as Entries, false, v, depth, path);
    if (v instanceof TorchSize) {
      this.w.global('torch', 'Size');
      this.w.ints(v.dims);
      this.w.op(OP.TUPLE1);
      this.w.op(OP.REDUCE);
      return this.w.put(v);
    }
    if (v instanceof PickleSet) return this.#saveSet(v, depth, path);
    if (v instanceof TorchTensor) return this.#saveTensor(v);
    if (v instanceof PtTensorData) return this.#saveTensorData(v, path);
    if (v instanceof TorchStorage || v instanceof PickleGlobal || v instanceof PickleObject) {
      throw new PtWriteError(
        `${path}: a ${v.constructor.name} cannot be written (only plain data and tensors are; weights_only loaders refuse the rest)`,
      );
    }
    if (isPlainObject(v)) return this.#saveDict(Object.entries(v), false, v, depth, path);
    throw new PtWriteError(`${path}: cannot write a ${(v as object).constructor?.name ?? typeof v}`);
  }

  /** bytes as torch.save writes them in protocol 2: _codecs.encode(latin-1 text, 'latin1'). */
  #saveBytes(v: Uint8Array): void {
    this.w.global('_codecs', 'encode');
    this.w.str(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'));
    this.w.str('latin1');
    this.w.op(OP.TUPLE2);
    this.w.op(OP.REDUCE);
    this.w.put(v);
  }

  #saveList(v: PtWritable[], depth: number, path: string): void {
    this.w.op(OP.EMPTY_LIST);
    this.w.put(v);
    for (let i = 0; i < v.length; i += BATCH) {
      const batch = v.slice(i, i + BATCH);
      if (batch.length === 1) {
        this.save(batch[0], depth + 1, `${path}[${i}]`);
        this.w.op(OP.APPEND);
      } else {
        this.w.op(OP.MARK);
        batch.forEach((x, j) => this.save(x, depth + 1, `${path}[${i + j}]`));
        this.w.op(OP.APPENDS);
      }
    }
  }

  #saveDict(entries: Entries, ordered: boolean, obj: unknown, depth: number, path: string): void {
    if (ordered) this.emptyOrderedDict();
    else this.w.op(OP.EMPTY_DICT);
    this.w.put(obj);
    const item = ([k, x]: [PtWritable, PtWritable]): void => {
      this.save(k, depth + 1, `${path}.<key>`);
      this.save(x, depth + 1, `${path}.${String(k)}`);
    };
    for (let i = 0; i < entries.length; i += BATCH) {
      const batch = entries.slice(i, i + BATCH);
      if (batch.length === 1) {
        item(batch[0] as [PtWritable, PtWritable]);
        this.w.op(OP.SETITEM);
      } else {
        this.w.op(OP.MARK);
        for (const e of batch) item(e);
        this.w.op(OP.SETITEMS);
      }
    }
  }

  #saveSet(v: PickleSet, depth: number, path: string): void {
    // as Python's protocol-2 pickler writes it (fix_imports): __builtin__.set([items])
    this.w.global('__builtin__', v.frozen ? 'frozenset' : 'set');
    this.w.op(OP.EMPTY_LIST);
    if (v.items.length > 0) {
      this.w.op(OP.MARK);
      v.items.forEach((x, i) => this.save(x as PtWritable, depth + 1, `${path}{${i}}`));
      this.w.op(OP.APPENDS);
    }
    this.w.op(OP.TUPLE1);
    this.w.op(OP.REDUCE);
    this.w.put(v);
  }

  /** The storage record of a tensor read by readPt (shared by every view of it). */
  #storageFor(t: TorchTensor): { key: string; cls: string; numel: number; v3: boolean } {
    const v3 = V3_DTYPES.has(t.dtype);
    const dtype: TorchDtype = v3 ? 'uint8' : t.dtype;
    const s = t.storage;
    let rec = this.#storageKeys.get(s);
    if (rec && rec.dtype !== dtype) {
      throw new PtWriteError(
        `storage ${s.key} is viewed as both ${rec.dtype} and ${dtype}; torch.save cannot express that either — clone the tensors first`,
      );
    }
    const itemsize = TORCH_DTYPE_ITEMSIZE[dtype];
    if (s.nbytes % itemsize !== 0)
      throw new PtWriteError(`storage ${s.key} (${s.nbytes} bytes) is not a whole number of ${dtype} elements`);
    if (!rec) {
      rec = { key: String(this.storages.length), dtype };
      this.#storageKeys.set(s, rec);
      this.storages.push({
        key: rec.key,
        nbytes: s.nbytes,
        read: (off, len) => s.readBytes(off, len).then((b) => (b.buffer.byteLength === b.byteLength ? b : b.slice())),
      });
    }
    return {
      key: rec.key,
      cls: v3 ? 'UntypedStorage' : (DTYPE_STORAGE_CLASS.get(dtype) as string),
      numel: s.nbytes / itemsize,
      v3,
    };
  }

  #saveTensor(v: TorchTensor): void {
    // v3 offsets count tensor-dtype elements of an untyped storage; v2 offsets count storage elements.
    this.#writeTensor({
      ...this.#storageFor(v),
      dtype: v.dtype,
      offset: v.storageOffset,
      shape: v.shape,
      stride: v.stride,
      requiresGrad: v.requiresGrad,
      parameter: v.isParameter,
    });
    this.w.put(v);
  }

  #saveTensorData(v: PtTensorData, path: string): void {
    const key = String(this.storages.length);
    const data = v.bytes;
    let cached: Promise<Uint8Array> | undefined;
    const whole = (): Promise<Uint8Array> =>
      (cached ??= (data instanceof Uint8Array ? Promise.resolve(data) : data()).then((b) => {
        if (b.byteLength !== v.byteLength)
          throw new PtWriteError(`${path}: tensor data is ${b.byteLength} bytes, expected ${v.byteLength}`);
        return b;
      }));
    this.storages.push({
      key,
      nbytes: v.byteLength,
      read: async (off, len) => (await whole()).subarray(off, off + len),
    });
    const v3 = V3_DTYPES.has(v.dtype);
    this.#writeTensor({
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
    this.w.put(v);
  }

  /** [_rebuild_parameter(] _rebuild_tensor_v2/v3(persistent storage, offset, size, stride, requires_grad, {}[, dtype]) [, requires_grad, {})] */
  #writeTensor(t: TensorRecord): void {
    const w = this.w;
    if (t.parameter) w.global('torch._utils', '_rebuild_parameter');
    w.global('torch._utils', t.v3 ? '_rebuild_tensor_v3' : '_rebuild_tensor_v2');
    w.op(OP.MARK); // args of the rebuild function
    // persistent id ('storage', storage_type, key, location, numel)
    w.op(OP.MARK);
    w.str('storage');
    w.global('torch', t.cls);
    w.str(t.key);
    w.str('cpu');
    w.int(t.numel);
    w.op(OP.TUPLE);
    w.op(OP.BINPERSID);
    w.int(t.offset);
    w.ints(t.shape);
    w.ints(t.stride);
    w.op(t.requiresGrad && !t.parameter ? OP.NEWTRUE : OP.NEWFALSE);
    this.emptyOrderedDict();
    if (t.v3) w.global('torch', t.dtype);
    w.op(OP.TUPLE);
    w.op(OP.REDUCE);
    if (t.parameter) {
      w.op(t.requiresGrad ? OP.NEWTRUE : OP.NEWFALSE);
      this.emptyOrderedDict();
      w.op(OP.TUPLE3); // (data, requires_grad, backward_hooks)
      w.op(OP.REDUCE);
    }
  }
}

/** Serialises `value` to a protocol-2 pickle; storages found on the way are returned in key order. */
export function picklePt(value: PtWritable): { pickle: Uint8Array; storages: StorageRecord[] } {
  const p = new TorchPickler();
  p.w.op(OP.PROTO);
  p.w.op(2);
  p.save(value, 0, '$');
  p.w.op(OP.STOP);
  return { pickle: p.w.result(), storages: p.storages };
}
