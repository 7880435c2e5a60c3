// Test helpers (not part of the public API): decode tensor values and compare decoded values against the
// fixtures' JSON descriptions ({"__tensor__"}, {"__dict__"}, {"__tuple__"}, {"__size__"}).
import { bf16ToF32, f16ToF32 } from '../src/dtype/half.js';
import { TorchTensor } from '../src/pt/torch/tensor.js';
import { PickleDict, PickleSet, PickleTuple, type PickleValue } from '../src/pt/pickle/values.js';
import { TorchSize } from '../src/pt/torch/values.js';

/** A tensor's elements as JS numbers (int64 as number when safe, else bigint), row-major. */
export async function tensorValues(t: TorchTensor): Promise<Array<number | bigint>> {
  const b = await t.readBytes();
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = t.numel;
  const out: Array<number | bigint> = [];
  for (let i = 0; i < n; i++) {
    switch (t.dtype) {
      case 'float32':
        out.push(dv.getFloat32(i * 4, true));
        break;
      case 'float64':
        out.push(dv.getFloat64(i * 8, true));
        break;
      case 'float16':
        out.push(f16ToF32(Uint16Array.of(dv.getUint16(i * 2, true)))[0] as number);
        break;
      case 'bfloat16':
        out.push(bf16ToF32(Uint16Array.of(dv.getUint16(i * 2, true)))[0] as number);
        break;
      case 'int64': {
        const v = dv.getBigInt64(i * 8, true);
        out.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 'uint64': {
        const v = dv.getBigUint64(i * 8, true);
        out.push(v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 'int32':
        out.push(dv.getInt32(i * 4, true));
        break;
      case 'uint32':
        out.push(dv.getUint32(i * 4, true));
        break;
      case 'int16':
        out.push(dv.getInt16(i * 2, true));
        break;
      case 'uint16':
        out.push(dv.getUint16(i * 2, true));
        break;
      case 'int8':
        out.push(dv.getInt8(i));
        break;
      case 'uint8':
      case 'bool':
        out.push(dv.getUint8(i));
        break;
      default:
        throw new Error(`tensorValues: no decoder for ${t.dtype}`);
    }
  }
  return out;
}

/** Parses Python's json.dumps output, which may contain bare NaN / Infinity / -Infinity tokens. */
export function parsePythonJson(text: string): unknown {
  const marked = text.replace(/("(?:[^"\\]|\\.)*")|-?Infinity|NaN/g, (m, str: string | undefined) =>
    str !== undefined ? str : `{"__float__":"${m}"}`,
  );
  return JSON.parse(marked, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && '__float__' in v) {
      const s = (v as { __float__: string }).__float__;
      return s === 'NaN' ? NaN : s === 'Infinity' ? Infinity : -Infinity;
    }
    return v;
  });
}

function same(a: number | bigint, b: unknown): boolean {
  if (typeof b === 'string') return BigInt(a) === BigInt(b); // int64 beyond 2^53 written as a decimal string
  if (typeof a === 'bigint') return typeof b === 'number' ? Number(a) === b : a === b;
  if (typeof b !== 'number') return false;
  return Object.is(a, b);
}

/**
 * Compares a decoded value with its JSON description; returns the list of differences (empty = equal).
 * Exact: floats by Object.is (so -0 ≠ 0 and NaN = NaN), dict order and the ordered flag, tuples vs lists.
 */
export async function diffAgainstJson(
  actual: PickleValue | undefined,
  expected: unknown,
  path = '$',
): Promise<string[]> {
  const diffs: string[] = [];
  const fail = (why: string): string[] => {
    diffs.push(`${path}: ${why}`);
    return diffs;
  };
  if (expected === null) return actual === null ? diffs : fail(`expected None, got ${String(actual)}`);
  if (typeof expected === 'boolean' || typeof expected === 'string')
    return actual === expected ? diffs : fail(`expected ${JSON.stringify(expected)}, got ${String(actual)}`);
  if (typeof expected === 'number') {
    if ((typeof actual === 'number' || typeof actual === 'bigint') && same(actual, expected)) return diffs;
    return fail(`expected ${expected}, got ${String(actual)}`);
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return fail(`expected a list, got ${describe(actual)}`);
    if (actual.length !== expected.length) return fail(`expected ${expected.length} items, got ${actual.length}`);
    for (let i = 0; i < expected.length; i++)
      diffs.push(...(await diffAgainstJson(actual[i], expected[i], `${path}[${i}]`)));
    return diffs;
  }
  const e = expected as Record<string, unknown>;
  if (e.__tensor__ === true) {
    if (!(actual instanceof TorchTensor)) return fail(`expected a tensor, got ${describe(actual)}`);
    if (actual.dtype !== e.dtype) fail(`dtype ${actual.dtype} ≠ ${String(e.dtype)}`);
    if (JSON.stringify(actual.shape) !== JSON.stringify(e.shape))
      fail(`shape ${JSON.stringify(actual.shape)} ≠ ${JSON.stringify(e.shape)}`);
    const values = await tensorValues(actual);
    const ev = e.values as unknown[];
    if (values.length !== ev.length) return fail(`${values.length} values ≠ ${ev.length}`);
    for (let i = 0; i < ev.length; i++)
      if (!same(values[i] as number | bigint, ev[i])) fail(`value[${i}] ${String(values[i])} ≠ ${String(ev[i])}`);
    if (e.parameter !== undefined && actual.isParameter !== e.parameter)
      fail(`isParameter ${actual.isParameter} ≠ ${String(e.parameter)}`);
    if (e.requires_grad !== undefined && actual.requiresGrad !== e.requires_grad)
      fail(`requiresGrad ${actual.requiresGrad} ≠ ${String(e.requires_grad)}`);
    return diffs;
  }
  if ('__bigint__' in e) {
    const want = BigInt(e.__bigint__ as string);
    return (typeof actual === 'bigint' || typeof actual === 'number') && BigInt(actual) === want
      ? diffs
      : fail(`expected ${want}, got ${String(actual)}`);
  }
  if ('__negzero__' in e) return Object.is(actual, -0) ? diffs : fail(`expected -0.0, got ${String(actual)}`);
  if ('__bytes__' in e) {
    const want = e.__bytes__ as number[];
    return actual instanceof Uint8Array && actual.length === want.length && want.every((x, i) => actual[i] === x)
      ? diffs
      : fail('bytes differ');
  }
  if ('__set__' in e) {
    if (!(actual instanceof PickleSet)) return fail(`expected a set, got ${describe(actual)}`);
    const want = e.__set__ as unknown[];
    if (actual.items.length !== want.length) return fail(`set of ${actual.items.length} ≠ ${want.length}`);
    for (const w of want) {
      let found = false;
      for (const a of actual.items) if ((await diffAgainstJson(a, w)).length === 0) found = true;
      if (!found) fail(`set lacks ${JSON.stringify(w)}`);
    }
    return diffs;
  }
  if ('__size__' in e) {
    if (!(actual instanceof TorchSize)) return fail(`expected torch.Size, got ${describe(actual)}`);
    if (JSON.stringify(actual.dims) !== JSON.stringify(e.__size__))
      fail(`Size ${JSON.stringify(actual.dims)} ≠ ${JSON.stringify(e.__size__)}`);
    return diffs;
  }
  if ('__tuple__' in e) {
    if (!(actual instanceof PickleTuple)) return fail(`expected a tuple, got ${describe(actual)}`);
    const items = e.__tuple__ as unknown[];
    if (actual.items.length !== items.length) return fail(`tuple of ${actual.items.length} ≠ ${items.length}`);
    for (let i = 0; i < items.length; i++)
      diffs.push(...(await diffAgainstJson(actual.items[i], items[i], `${path}(${i})`)));
    return diffs;
  }
  if ('__dict__' in e) {
    if (!(actual instanceof PickleDict)) return fail(`expected a dict, got ${describe(actual)}`);
    if (actual.ordered !== e.ordered) fail(`ordered ${actual.ordered} ≠ ${String(e.ordered)}`);
    const entries = e.__dict__ as Array<[unknown, unknown]>;
    if (actual.entries.length !== entries.length) return fail(`${actual.entries.length} keys ≠ ${entries.length}`);
    for (let i = 0; i < entries.length; i++) {
      const [ek, ev] = entries[i] as [unknown, unknown];
      const [ak, av] = actual.entries[i] as [PickleValue, PickleValue];
      diffs.push(...(await diffAgainstJson(ak, ek, `${path}.key#${i}`)));
      diffs.push(...(await diffAgainstJson(av, ev, `${path}[${JSON.stringify(ek)}]`)));
    }
    return diffs;
  }
  return fail(`unknown JSON description ${JSON.stringify(expected).slice(0, 80)}`);
}

function describe(v: PickleValue | undefined): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'None';
  if (typeof v === 'object') return Array.isArray(v) ? 'list' : v.constructor.name;
  return `${typeof v} ${String(v)}`;
}
