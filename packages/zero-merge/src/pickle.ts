// Typed access to the inert values checkpoint-io's .pt reader returns. Every accessor names the
// file and the key path when the value is not what DeepSpeed writes, so a damaged or foreign file
// fails with a message instead of a TypeError.
import {
  PickleDict,
  PickleObject,
  PickleTuple,
  TorchSize,
  TorchTensor,
  type PickleValue,
} from '@vla-lora/checkpoint-io';
import { CorruptCheckpointError } from './errors.js';

/** Where a value came from, for error messages: file + key path. */
export interface At {
  file: string;
  path: string;
}

export function at(file: string, path = ''): At {
  return { file, path };
}

export function child(a: At, key: string | number): At {
  return {
    file: a.file,
    path: typeof key === 'number' ? `${a.path}[${key}]` : a.path === '' ? key : `${a.path}.${key}`,
  };
}

function describe(v: PickleValue | undefined): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'None';
  if (v instanceof TorchTensor) return `tensor ${v.dtype}${JSON.stringify(v.shape)}`;
  if (v instanceof PickleObject) return `${v.module}.${v.name} object`;
  if (v instanceof PickleDict) return 'dict';
  if (v instanceof PickleTuple) return 'tuple';
  if (v instanceof TorchSize) return 'torch.Size';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  return typeof v;
}

export function fail(a: At, expected: string, v: PickleValue | undefined): never {
  throw new CorruptCheckpointError(
    `${a.file}: ${a.path || '<root>'} should be ${expected} but is ${describe(v)}; the file is not a DeepSpeed checkpoint of a layout zero-merge knows, or it is damaged`,
    a.file,
  );
}

export function asDict(v: PickleValue | undefined, a: At): PickleDict {
  if (v instanceof PickleDict) return v;
  // an OrderedDict subclass pickled by REDUCE may come back as an object with a dict state
  if (v instanceof PickleObject && v.state instanceof PickleDict) return v.state;
  return fail(a, 'a dict', v);
}

/** `dict.get(key)` with string keys; undefined when absent. */
export function get(d: PickleDict, key: string): PickleValue | undefined {
  return d.get(key);
}

export function req(d: PickleDict, key: string, a: At): PickleValue {
  const v = d.get(key);
  if (v === undefined) fail(child(a, key), 'present', v);
  return v;
}

/**
 * A Python int (plain, bigint, or an IntEnum such as ZeroStageEnum: pickled as `ZeroStageEnum(3)` or, by CPython
 * 3.11, as `getattr(ZeroStageEnum, 'weights')`; checkpoint-io decodes both to a record whose one arg is the value).
 */
export function asInt(v: PickleValue | undefined, a: At): number {
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER))
    return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof PickleObject && v.args.length === 1) {
    const inner = v.args[0];
    if ((typeof inner === 'number' && Number.isInteger(inner)) || typeof inner === 'bigint') return asInt(inner, a);
  }
  return fail(a, 'an integer', v);
}

export function asString(v: PickleValue | undefined, a: At): string {
  if (typeof v === 'string') return v;
  return fail(a, 'a string', v);
}

export function asList(v: PickleValue | undefined, a: At): PickleValue[] {
  if (Array.isArray(v)) return v;
  if (v instanceof PickleTuple) return v.items;
  return fail(a, 'a list', v);
}

export function asTensor(v: PickleValue | undefined, a: At): TorchTensor {
  if (v instanceof TorchTensor) return v;
  return fail(a, 'a tensor', v);
}

/** torch.Size, or a tuple/list of ints (older DeepSpeed pickled shapes as tuples). */
export function asShape(v: PickleValue | undefined, a: At): number[] {
  if (v instanceof TorchSize) return [...v.dims];
  if (Array.isArray(v) || v instanceof PickleTuple) return asList(v, a).map((x, i) => asInt(x, child(a, i)));
  return fail(a, 'a torch.Size', v);
}

/** String-keyed entries in pickle order. */
export function stringEntries(d: PickleDict, a: At): Array<[string, PickleValue]> {
  return d.entries.map(([k, v], i) => [asString(k, child(a, `<key ${i}>`)), v]);
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
