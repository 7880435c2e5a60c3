// The builders: the few globals torch.save emits whose meaning we know, mapped to constructors of inert
// data. Every other global called by a pickle becomes a PickleObject record (and, unless allowlisted in
// allowlist.ts, makes readPt refuse the file). Nothing here calls Python code, imports modules or touches the
// file system.
import { PtTorchObjectError } from '../errors.js';
import { TORCH_DTYPE_ATTR, type TorchDtype } from './dtypes.js';
import type { CallKind } from '../pickle/machine.js';
import { PickleDict, PickleGlobal, PickleObject, PickleSet, PickleTuple, type PickleValue } from '../pickle/values.js';
import { TorchStorage } from './storage.js';
import { TorchTensor } from './tensor.js';
import { enumMember } from './enums.js';
import { TorchSize } from './values.js';

const MODULE_ALIASES: Readonly<Record<string, string>> = { __builtin__: 'builtins', copy_reg: 'copyreg' };

/** `module.name` with Python 2 module names mapped to Python 3 ones (as pickle's fix_imports does). */
export function canonicalName(module: string, name: string): string {
  return `${MODULE_ALIASES[module] ?? module}.${name}`;
}

/** The torch dtype a global names (`torch.float32`, `torch.bfloat16`, ...), else undefined. */
export function dtypeOfGlobal(v: PickleValue | undefined): TorchDtype | undefined {
  if (!(v instanceof PickleGlobal) || v.module !== 'torch') return undefined;
  return TORCH_DTYPE_ATTR.get(v.name);
}

type Builder = (args: PickleValue[], ctx: CallContext, kind: CallKind, kwargs: PickleDict | undefined) => PickleValue;

export interface CallContext {
  fileName: string;
  /** Re-enters the call machinery (for _rebuild_from_type_v2 and copyreg helpers). */
  call(g: PickleGlobal, args: PickleValue[], kind: CallKind, kwargs: PickleDict | undefined): PickleValue;
}

function bad(ctx: CallContext, what: string, why: string): never {
  throw new PtTorchObjectError(
    `${ctx.fileName}: ${what}: ${why}; the file is corrupt or was not written by torch.save`,
  );
}

function itemsOf(v: PickleValue | undefined): PickleValue[] | undefined {
  if (v instanceof PickleTuple) return v.items;
  if (Array.isArray(v)) return v;
  if (v instanceof TorchSize) return v.dims;
  if (v instanceof PickleSet) return v.items;
  return undefined;
}

function intList(v: PickleValue | undefined, ctx: CallContext, what: string): number[] {
  const items = itemsOf(v);
  if (!items) bad(ctx, what, 'expected a tuple of ints');
  return items.map((x) => {
    if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0)
      bad(ctx, what, `${String(x)} is not a non-negative int`);
    return x;
  });
}

function safeInt(v: PickleValue | undefined, ctx: CallContext, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
    bad(ctx, what, `${String(v)} is not a non-negative int`);
  return v;
}

function bool(v: PickleValue | undefined, ctx: CallContext, what: string): boolean {
  if (v === undefined) return false;
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1) return v === 1;
  bad(ctx, what, 'requires_grad is not a bool');
}

function rebuildTensor(args: PickleValue[], ctx: CallContext, what: string, dtype?: TorchDtype): TorchTensor {
  const [storage, offset, size, stride, requiresGrad] = args;
  if (!(storage instanceof TorchStorage)) bad(ctx, what, `the first argument is not a storage`);
  const d = dtype ?? storage.dtype;
  const t = new TorchTensor(
    storage,
    d,
    intList(size, ctx, `${what} size`),
    intList(stride, ctx, `${what} stride`),
    safeInt(offset, ctx, `${what} storage_offset`),
    bool(requiresGrad, ctx, what),
  );
  return t;
}

function asParameter(
  t: PickleValue | undefined,
  requiresGrad: PickleValue | undefined,
  ctx: CallContext,
  what: string,
): TorchTensor {
  if (!(t instanceof TorchTensor)) bad(ctx, what, 'data is not a tensor');
  t.isParameter = true;
  t.requiresGrad = requiresGrad === undefined ? true : bool(requiresGrad, ctx, what);
  return t;
}

function fillDict(d: PickleDict, init: PickleValue | undefined, ctx: CallContext, what: string): PickleDict {
  if (init === undefined) return d;
  if (init instanceof PickleDict) {
    for (const [k, v] of init.entries) d.set(k, v);
    return d;
  }
  const pairs = itemsOf(init);
  if (!pairs) bad(ctx, what, 'expected a dict or pairs');
  for (const p of pairs) {
    const kv = itemsOf(p);
    if (!kv || kv.length !== 2) bad(ctx, what, 'expected (key, value) pairs');
    d.set(kv[0] as PickleValue, kv[1] as PickleValue);
  }
  return d;
}

function toBytes(args: PickleValue[], ctx: CallContext, what: string): Uint8Array {
  const [src, enc] = args;
  if (src === undefined) return new Uint8Array(0);
  if (src instanceof Uint8Array) return src.slice();
  if (typeof src === 'string') {
    const e = typeof enc === 'string' ? enc.toLowerCase().replace('_', '-') : 'utf-8';
    if (e === 'latin1' || e === 'latin-1' || e === 'iso-8859-1') {
      const out = new Uint8Array(src.length);
      for (let i = 0; i < src.length; i++) {
        const c = src.charCodeAt(i);
        if (c > 0xff) bad(ctx, what, 'latin-1 text with a character above U+00FF');
        out[i] = c;
      }
      return out;
    }
    if (e === 'utf-8' || e === 'utf8') return new TextEncoder().encode(src);
    bad(ctx, what, `unsupported encoding ${String(enc)}`);
  }
  if (typeof src === 'number' && Number.isSafeInteger(src) && src >= 0 && src <= 1 << 20) return new Uint8Array(src);
  const items = itemsOf(src);
  if (items) {
    return Uint8Array.from(items, (x) => {
      if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > 255)
        bad(ctx, what, 'byte values must be ints in 0..255');
      return x;
    });
  }
  bad(ctx, what, 'unsupported argument');
}

const KNOWN = new Map<string, Builder>([
  ['collections.OrderedDict', (a, ctx) => fillDict(new PickleDict(true), a[0], ctx, 'OrderedDict')],
  ['builtins.dict', (a, ctx) => fillDict(new PickleDict(false), a[0], ctx, 'dict')],
  [
    'builtins.set',
    (a, ctx) => new PickleSet(a[0] === undefined ? [] : [...(itemsOf(a[0]) ?? bad(ctx, 'set', 'not iterable'))], false),
  ],
  [
    'builtins.frozenset',
    (a, ctx) =>
      new PickleSet(a[0] === undefined ? [] : [...(itemsOf(a[0]) ?? bad(ctx, 'frozenset', 'not iterable'))], true),
  ],
  ['builtins.list', (a, ctx) => (a[0] === undefined ? [] : [...(itemsOf(a[0]) ?? bad(ctx, 'list', 'not iterable'))])],
  [
    'builtins.tuple',
    (a, ctx) => new PickleTuple(a[0] === undefined ? [] : [...(itemsOf(a[0]) ?? bad(ctx, 'tuple', 'not iterable'))]),
  ],
  ['builtins.bytearray', (a, ctx) => toBytes(a, ctx, 'bytearray')],
  ['builtins.bytes', (a, ctx) => toBytes(a, ctx, 'bytes')],
  ['_codecs.encode', (a, ctx) => toBytes(a, ctx, '_codecs.encode')],
  ['torch.Size', (a, ctx) => new TorchSize(a[0] === undefined ? [] : intList(a[0], ctx, 'torch.Size'))],
  [
    'torch.device',
    (a, ctx) => {
      const [type, index] = a;
      if (typeof type !== 'string') bad(ctx, 'torch.device', 'device type is not a string');
      if (index === undefined || index === null) return type;
      return `${type}:${safeInt(index, ctx, 'torch.device index')}`;
    },
  ],
  ['torch._utils._rebuild_tensor', (a, ctx) => rebuildTensor(a, ctx, '_rebuild_tensor')],
  [
    'torch._utils._rebuild_tensor_v2',
    (a, ctx) => {
      const t = rebuildTensor(a, ctx, '_rebuild_tensor_v2');
      if (a[6] !== undefined && a[6] !== null) t.metadata = a[6];
      return t;
    },
  ],
  [
    'torch._utils._rebuild_tensor_v3',
    (a, ctx) => {
      const dtype = dtypeOfGlobal(a[6]);
      if (dtype === undefined) bad(ctx, '_rebuild_tensor_v3', 'the dtype argument is not a torch dtype');
      const t = rebuildTensor(a, ctx, '_rebuild_tensor_v3', dtype);
      if (a[7] !== undefined && a[7] !== null) t.metadata = a[7];
      return t;
    },
  ],
  ['torch._utils._rebuild_parameter', (a, ctx) => asParameter(a[0], a[1], ctx, '_rebuild_parameter')],
  [
    'torch._utils._rebuild_parameter_with_state',
    (a, ctx) => {
      const t = asParameter(a[0], a[1], ctx, '_rebuild_parameter_with_state');
      t.pythonState = a[3];
      return t;
    },
  ],
  ['torch.nn.parameter.Parameter', (a, ctx) => asParameter(a[0], a[1], ctx, 'Parameter')],
  [
    'torch._tensor._rebuild_from_type_v2',
    (a, ctx, _kind) => {
      const [func, newType, args, state] = a;
      if (!(func instanceof PickleGlobal) || !(newType instanceof PickleGlobal)) {
        return new PickleObject('torch._tensor', '_rebuild_from_type_v2', a);
      }
      const inner = ctx.call(
        func,
        itemsOf(args) ?? bad(ctx, '_rebuild_from_type_v2', 'args is not a tuple'),
        'reduce',
        undefined,
      );
      if (!(inner instanceof TorchTensor)) return new PickleObject('torch._tensor', '_rebuild_from_type_v2', a);
      const cls = canonicalName(newType.module, newType.name);
      if (cls === 'torch.nn.parameter.Parameter') inner.isParameter = true;
      else if (cls !== 'torch.Tensor' && cls !== 'torch._tensor.Tensor') inner.pythonClass = cls;
      if (state !== undefined && state !== null && !(state instanceof PickleDict && state.size === 0))
        inner.pythonState = state;
      return inner;
    },
  ],
  [
    'copyreg._reconstructor',
    (a, ctx) => {
      const [cls, base, state] = a;
      if (!(cls instanceof PickleGlobal)) bad(ctx, 'copyreg._reconstructor', 'class is not a global');
      const baseName = base instanceof PickleGlobal ? canonicalName(base.module, base.name) : '';
      if (baseName === 'builtins.object' || state === null || state === undefined)
        return ctx.call(cls, [], 'newobj', undefined);
      return ctx.call(cls, [state], 'newobj', undefined);
    },
  ],
  [
    'copyreg.__newobj__',
    (a, ctx) => {
      const [cls, ...rest] = a;
      if (!(cls instanceof PickleGlobal)) bad(ctx, 'copyreg.__newobj__', 'class is not a global');
      return ctx.call(cls, rest, 'newobj', undefined);
    },
  ],
  [
    'copyreg.__newobj_ex__',
    (a, ctx) => {
      const [cls, args, kwargs] = a;
      if (!(cls instanceof PickleGlobal)) bad(ctx, 'copyreg.__newobj_ex__', 'class is not a global');
      return ctx.call(cls, itemsOf(args) ?? [], 'newobj', kwargs instanceof PickleDict ? kwargs : undefined);
    },
  ],
]);

/** True when `module.name` is on the allow-list of globals this reader gives meaning to. */
export function isKnownGlobal(module: string, name: string): boolean {
  return KNOWN.has(canonicalName(module, name));
}

/** Told about each `getattr(...)` call: `ok` when it was a known enum member lookup (see enums.ts). */
export interface GetattrObserver {
  getattr(g: PickleGlobal, ok: boolean): void;
}

/** builtins.getattr: only `getattr(KnownEnum, 'member')` means something; anything else stays an inert record. */
function getattrCall(
  g: PickleGlobal,
  args: PickleValue[],
  kind: CallKind,
  kwargs: PickleDict | undefined,
  observer: GetattrObserver | undefined,
): PickleValue {
  const member = kind === 'reduce' && args.length === 2 ? enumMember(args[0], args[1]) : undefined;
  observer?.getattr(g, member !== undefined);
  return member ?? new PickleObject(g.module, g.name, args, kwargs, kind);
}

/**
 * The `call` hook for the unpickler: known globals → inert values; `getattr` of a known enum member → that
 * member's record; anything else → PickleObject record. `observer` hears about every getattr call.
 */
export function torchCall(
  fileName: string,
  observer?: GetattrObserver,
): (g: PickleGlobal, args: PickleValue[], kind: CallKind, kwargs: PickleDict | undefined) => PickleValue {
  let depth = 0;
  const ctx: CallContext = {
    fileName,
    call(g, args, kind, kwargs) {
      const name = canonicalName(g.module, g.name);
      if (name === 'builtins.getattr') return getattrCall(g, args, kind, kwargs, observer);
      const builder = KNOWN.get(name);
      if (!builder) return new PickleObject(g.module, g.name, args, kwargs, kind);
      if (depth >= 8) bad(ctx, g.qualifiedName, 'nested rebuild calls deeper than 8');
      depth++;
      try {
        return builder(args, ctx, kind, kwargs);
      } finally {
        depth--;
      }
    },
  };
  return ctx.call;
}
