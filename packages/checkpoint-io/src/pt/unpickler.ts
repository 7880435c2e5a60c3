// A safe pickle virtual machine (protocols 0–5). It interprets opcodes into inert values and never calls
// anything: globals become PickleGlobal references, and REDUCE / NEWOBJ / INST / OBJ go through `call`, which
// maps a fixed allow-list to constructors of plain data (see torch-globals.ts) and records everything else as
// a PickleObject. Every length is checked against the bytes actually present before anything is allocated.
import { PickleError, PickleLimitError, PickleUnsupportedOpcodeError, PtTruncatedError } from './errors.js';
import { PickleDict, PickleGlobal, PickleObject, PickleSet, PickleTuple, type PickleValue } from './values.js';
import { TorchTensor } from './tensor.js';

/** The stream ended before STOP (the legacy reader catches it to read more of the file). */
export class PickleTruncatedError extends PtTruncatedError {}

export type CallKind = 'reduce' | 'newobj' | 'inst';

export interface UnpickleHooks {
  /** Resolves a persistent id (BINPERSID / PERSID). Without it, a persistent id is an error. */
  persistentLoad?: (pid: PickleValue) => PickleValue;
  /** Builds the value of a call to a global. Defaults to an inert PickleObject for every global. */
  call?: (callable: PickleGlobal, args: PickleValue[], kind: CallKind, kwargs: PickleDict | undefined) => PickleValue;
}

export interface UnpickleOptions {
  /** Most memo entries (default 2^26). */
  maxMemo?: number;
  /** Most values on the stack plus the MARK stack (default 2^26). */
  maxStack?: number;
  /** Longest LONG1/LONG4 integer in bytes, and longest text integer in digits (default 65536). */
  maxIntBytes?: number;
  /** How Python 2 `str` (STRING/BINSTRING/SHORT_BINSTRING) decodes: torch.load uses utf-8 (default). */
  stringEncoding?: 'utf-8' | 'latin1' | 'bytes';
}

export interface UnpickleResult {
  value: PickleValue;
  /** Offset just past the STOP opcode. */
  end: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A Python int as number, or bigint beyond ±(2^53 − 1). */
export function normalizeInt(v: bigint): number | bigint {
  return v >= -MAX_SAFE && v <= MAX_SAFE ? Number(v) : v;
}

/** Little-endian two's-complement integer (pickle's LONG1 / LONG4 payload). */
export function decodeLong(b: Uint8Array): number | bigint {
  const n = b.length;
  if (n === 0) return 0;
  const negative = ((b[n - 1] as number) & 0x80) !== 0;
  if (n <= 6) {
    let v = 0;
    for (let i = n - 1; i >= 0; i--) v = v * 256 + (b[i] as number);
    return negative ? v - 2 ** (8 * n) : v;
  }
  const hex = Buffer.from(b).reverse().toString('hex');
  let v = BigInt(`0x${hex}`);
  if (negative) v -= 1n << BigInt(8 * n);
  return normalizeInt(v);
}

function describe(v: PickleValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.constructor.name;
  return typeof v;
}

/** Decodes Python's string-escape (the body of a protocol 0 STRING) to bytes. */
function escapeDecode(s: string, pos: number): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c !== 0x5c) {
      if (c > 0xff) throw new PickleError(`STRING at byte ${pos}: non-latin-1 character`);
      out.push(c);
      continue;
    }
    i++;
    if (i >= s.length) throw new PickleError(`STRING at byte ${pos}: trailing backslash`);
    const e = s[i] as string;
    const simple: Record<string, number> = {
      '\\': 0x5c,
      "'": 0x27,
      '"': 0x22,
      n: 0x0a,
      r: 0x0d,
      t: 0x09,
      a: 7,
      b: 8,
      f: 0x0c,
      v: 0x0b,
    };
    if (e in simple) out.push(simple[e] as number);
    else if (e === '\n') continue;
    else if (e === 'x') {
      const h = s.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new PickleError(`STRING at byte ${pos}: bad \\x escape`);
      out.push(parseInt(h, 16));
      i += 2;
    } else if (e >= '0' && e <= '7') {
      let j = i;
      while (j < s.length && j < i + 3 && (s[j] as string) >= '0' && (s[j] as string) <= '7') j++;
      out.push(parseInt(s.slice(i, j), 8) & 0xff);
      i = j - 1;
    } else {
      out.push(0x5c, e.charCodeAt(0) & 0xff);
    }
  }
  return Uint8Array.from(out);
}

/** Decodes raw-unicode-escape (the body of a protocol 0 UNICODE). */
function rawUnicodeEscapeDecode(b: Uint8Array, pos: number): string {
  let out = '';
  for (let i = 0; i < b.length; i++) {
    const c = b[i] as number;
    if (c === 0x5c && i + 1 < b.length && (b[i + 1] === 0x75 || b[i + 1] === 0x55)) {
      const len = b[i + 1] === 0x75 ? 4 : 8;
      const hex = latin1.decode(b.subarray(i + 2, i + 2 + len));
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex))
        throw new PickleError(`UNICODE at byte ${pos}: bad escape`);
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff) throw new PickleError(`UNICODE at byte ${pos}: code point out of range`);
      out += String.fromCodePoint(cp);
      i += 1 + len;
    } else {
      out += String.fromCharCode(c);
    }
  }
  return out;
}

const FLOAT_TEXT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|infinity|nan)$/i;
const INT_TEXT = /^[+-]?\d+$/;

/**
 * Interprets one pickle starting at `start` of `data` until STOP. Throws PickleTruncatedError when `data` ends
 * first, PickleUnsupportedOpcodeError on an unknown opcode, PickleError on malformed streams.
 */
export function unpickle(
  data: Uint8Array,
  hooks: UnpickleHooks = {},
  options: UnpickleOptions = {},
  start = 0,
): UnpickleResult {
  const maxMemo = options.maxMemo ?? 2 ** 26;
  const maxStack = options.maxStack ?? 2 ** 26;
  const maxIntBytes = options.maxIntBytes ?? 65536;
  const encoding = options.stringEncoding ?? 'utf-8';
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const end = data.byteLength;
  let pos = start;
  let opPos = start;
  let stack: PickleValue[] = [];
  const metastack: PickleValue[][] = [];
  let total = 0; // values on all stacks, for the limit
  const memo = new Map<number, PickleValue>();

  const call =
    hooks.call ??
    ((g: PickleGlobal, args: PickleValue[], kind: CallKind, kwargs: PickleDict | undefined) =>
      new PickleObject(g.module, g.name, args, kwargs, kind));

  const truncated = (what: string): never => {
    throw new PickleTruncatedError(
      `pickle ends inside ${what} at byte ${opPos} (${end - start} bytes of pickle); the file is truncated or corrupt`,
    );
  };
  const need = (n: number, what: string): void => {
    if (n < 0 || n > end - pos) truncated(what);
  };
  const take = (n: number, what: string): Uint8Array => {
    need(n, what);
    const b = data.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const u8 = (what: string): number => {
    need(1, what);
    return data[pos++] as number;
  };
  const u16 = (what: string): number => {
    need(2, what);
    const v = view.getUint16(pos, true);
    pos += 2;
    return v;
  };
  const u32 = (what: string): number => {
    need(4, what);
    const v = view.getUint32(pos, true);
    pos += 4;
    return v;
  };
  const u64 = (what: string): number => {
    need(8, what);
    const v = view.getBigUint64(pos, true);
    pos += 8;
    // Anything past the remaining bytes is rejected by `need` below; clamp to keep it a safe number.
    return v > BigInt(end) ? end + 1 : Number(v);
  };
  const readline = (what: string, max = end - pos): string => {
    const limit = Math.min(end, pos + max + 1);
    let i = pos;
    while (i < limit && data[i] !== 0x0a) i++;
    if (i >= limit) {
      if (limit === end) truncated(what);
      throw new PickleLimitError(`${what} at byte ${opPos}: line longer than ${max} bytes`);
    }
    const line = latin1.decode(data.subarray(pos, i));
    pos = i + 1;
    return line;
  };
  const readlineBytes = (what: string): Uint8Array => {
    let i = pos;
    while (i < end && data[i] !== 0x0a) i++;
    if (i >= end) truncated(what);
    const b = data.subarray(pos, i);
    pos = i + 1;
    return b;
  };
  const push = (v: PickleValue): void => {
    if (++total > maxStack) throw new PickleLimitError(`pickle stack exceeds ${maxStack} values (option maxStack)`);
    stack.push(v);
  };
  const pop = (what: string): PickleValue => {
    if (stack.length === 0) throw new PickleError(`${what} at byte ${opPos}: stack underflow (corrupt pickle)`);
    total--;
    return stack.pop() as PickleValue;
  };
  const top = (what: string): PickleValue => {
    if (stack.length === 0) throw new PickleError(`${what} at byte ${opPos}: empty stack (corrupt pickle)`);
    return stack[stack.length - 1] as PickleValue;
  };
  const popMark = (what: string): PickleValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (prev === undefined) throw new PickleError(`${what} at byte ${opPos}: no MARK on the stack (corrupt pickle)`);
    stack = prev;
    total -= items.length + 1;
    return items;
  };
  const memoPut = (idx: number, v: PickleValue): void => {
    if (!memo.has(idx) && memo.size >= maxMemo)
      throw new PickleLimitError(`pickle memo exceeds ${maxMemo} entries (option maxMemo)`);
    memo.set(idx, v);
  };
  const memoGet = (idx: number): PickleValue => {
    const v = memo.get(idx);
    if (v === undefined) throw new PickleError(`memo key ${idx} at byte ${opPos} was never stored (corrupt pickle)`);
    return v;
  };
  const decodeText = (b: Uint8Array): string => utf8.decode(b);
  const decodePy2Str = (b: Uint8Array): PickleValue => {
    if (encoding === 'bytes') return b.slice();
    if (encoding === 'latin1') return latin1.decode(b);
    try {
      return utf8Strict.decode(b);
    } catch {
      throw new PickleError(
        `Python 2 string at byte ${opPos} is not valid UTF-8; read it with stringEncoding 'latin1' or 'bytes'`,
      );
    }
  };
  const textInt = (line: string, what: string): number | bigint => {
    const t = line.endsWith('L') ? line.slice(0, -1) : line;
    if (t.length > maxIntBytes) throw new PickleLimitError(`${what} at byte ${opPos}: integer of ${t.length} digits`);
    if (!INT_TEXT.test(t))
      throw new PickleError(`${what} at byte ${opPos}: not an integer: ${JSON.stringify(t.slice(0, 40))}`);
    return normalizeInt(BigInt(t));
  };
  const intIndex = (v: number | bigint, what: string): number => {
    if (typeof v !== 'number' || v < 0) throw new PickleError(`${what} at byte ${opPos}: bad memo index`);
    return v;
  };
  const doCall = (callable: PickleValue, args: PickleValue[], kind: CallKind, kwargs?: PickleDict): PickleValue => {
    if (!(callable instanceof PickleGlobal)) {
      throw new PickleError(
        `${kind} at byte ${opPos}: callable is a ${describe(callable)}, not a global; this reader only records calls of named globals`,
      );
    }
    return call(callable, args, kind, kwargs);
  };
  const argsOf = (v: PickleValue, what: string): PickleValue[] => {
    if (v instanceof PickleTuple) return v.items;
    if (Array.isArray(v)) return v;
    throw new PickleError(`${what} at byte ${opPos}: arguments are a ${describe(v)}, not a tuple`);
  };
  const setItem = (target: PickleValue, k: PickleValue, v: PickleValue, what: string): void => {
    if (target instanceof PickleDict) target.set(k, v);
    else if (target instanceof PickleObject) target.dictItems.push([k, v]);
    else throw new PickleError(`${what} at byte ${opPos}: target is a ${describe(target)}, not a dict`);
  };
  const appendItems = (target: PickleValue, items: PickleValue[], what: string): void => {
    if (Array.isArray(target)) for (const it of items) target.push(it);
    else if (target instanceof PickleObject) for (const it of items) target.listItems.push(it);
    else throw new PickleError(`${what} at byte ${opPos}: target is a ${describe(target)}, not a list`);
  };

  for (;;) {
    opPos = pos;
    if (pos >= end) truncated('the opcode stream (no STOP)');
    const op = data[pos++] as number;
    switch (op) {
      case 0x80: {
        // PROTO
        const p = u8('PROTO');
        if (p > 5) throw new PickleError(`unsupported pickle protocol ${p} at byte ${opPos} (this reader knows 0–5)`);
        break;
      }
      case 0x95: {
        // FRAME: framing is transparent; the length must fit.
        const n = u64('FRAME');
        need(n, 'FRAME');
        break;
      }
      case 0x2e: {
        // STOP
        const value = pop('STOP');
        return { value, end: pos };
      }
      case 0x28: // MARK
        if (++total > maxStack) throw new PickleLimitError(`pickle stack exceeds ${maxStack} values (option maxStack)`);
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length > 0) pop('POP');
        else popMark('POP');
        break;
      case 0x31: // POP_MARK
        popMark('POP_MARK');
        break;
      case 0x32: // DUP
        push(top('DUP'));
        break;
      // ---- constants and numbers
      case 0x4e:
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x4b: // BININT1
        push(u8('BININT1'));
        break;
      case 0x4d: // BININT2
        push(u16('BININT2'));
        break;
      case 0x4a: {
        // BININT
        need(4, 'BININT');
        push(view.getInt32(pos, true));
        pos += 4;
        break;
      }
      case 0x8a: {
        // LONG1
        const n = u8('LONG1');
        push(decodeLong(take(n, 'LONG1')));
        break;
      }
      case 0x8b: {
        // LONG4
        need(4, 'LONG4');
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) throw new PickleError(`LONG4 at byte ${opPos}: negative length`);
        if (n > maxIntBytes)
          throw new PickleLimitError(`LONG4 at byte ${opPos}: ${n}-byte integer exceeds maxIntBytes ${maxIntBytes}`);
        push(decodeLong(take(n, 'LONG4')));
        break;
      }
      case 0x47: {
        // BINFLOAT (big-endian double)
        need(8, 'BINFLOAT');
        push(view.getFloat64(pos, false));
        pos += 8;
        break;
      }
      case 0x49: {
        // INT (text): "01"/"00" are True/False
        const line = readline('INT', maxIntBytes + 2);
        if (line === '01') push(true);
        else if (line === '00') push(false);
        else push(textInt(line, 'INT'));
        break;
      }
      case 0x4c: // LONG (text)
        push(textInt(readline('LONG', maxIntBytes + 2), 'LONG'));
        break;
      case 0x46: {
        // FLOAT (text)
        const line = readline('FLOAT', 512).trim();
        if (!FLOAT_TEXT.test(line))
          throw new PickleError(`FLOAT at byte ${opPos}: not a float: ${JSON.stringify(line.slice(0, 40))}`);
        const l = line.toLowerCase().replace(/^\+/, '');
        push(
          l === 'nan' || l === '-nan'
            ? NaN
            : l === 'inf' || l === 'infinity'
              ? Infinity
              : l === '-inf' || l === '-infinity'
                ? -Infinity
                : Number(line),
        );
        break;
      }
      // ---- strings and bytes
      case 0x58: {
        // BINUNICODE
        const n = u32('BINUNICODE');
        push(decodeText(take(n, 'BINUNICODE')));
        break;
      }
      case 0x8c: {
        // SHORT_BINUNICODE
        const n = u8('SHORT_BINUNICODE');
        push(decodeText(take(n, 'SHORT_BINUNICODE')));
        break;
      }
      case 0x8d: {
        // BINUNICODE8
        const n = u64('BINUNICODE8');
        push(decodeText(take(n, 'BINUNICODE8')));
        break;
      }
      case 0x56: // UNICODE (raw-unicode-escape text)
        push(rawUnicodeEscapeDecode(readlineBytes('UNICODE'), opPos));
        break;
      case 0x53: {
        // STRING (repr of a Python 2 str)
        const line = readline('STRING');
        const q = line[0];
        if (line.length < 2 || (q !== "'" && q !== '"') || line[line.length - 1] !== q) {
          throw new PickleError(`STRING at byte ${opPos}: the argument must be quoted`);
        }
        push(decodePy2Str(escapeDecode(line.slice(1, -1), opPos)));
        break;
      }
      case 0x54: {
        // BINSTRING
        need(4, 'BINSTRING');
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) throw new PickleError(`BINSTRING at byte ${opPos}: negative length`);
        push(decodePy2Str(take(n, 'BINSTRING')));
        break;
      }
      case 0x55: {
        // SHORT_BINSTRING
        const n = u8('SHORT_BINSTRING');
        push(decodePy2Str(take(n, 'SHORT_BINSTRING')));
        break;
      }
      case 0x42: {
        // BINBYTES
        const n = u32('BINBYTES');
        push(take(n, 'BINBYTES').slice());
        break;
      }
      case 0x43: {
        // SHORT_BINBYTES
        const n = u8('SHORT_BINBYTES');
        push(take(n, 'SHORT_BINBYTES').slice());
        break;
      }
      case 0x8e: {
        // BINBYTES8
        const n = u64('BINBYTES8');
        push(take(n, 'BINBYTES8').slice());
        break;
      }
      case 0x96: {
        // BYTEARRAY8
        const n = u64('BYTEARRAY8');
        push(take(n, 'BYTEARRAY8').slice());
        break;
      }
      case 0x97: // NEXT_BUFFER
        throw new PickleUnsupportedOpcodeError(
          op,
          opPos,
          `NEXT_BUFFER at byte ${opPos}: out-of-band pickle buffers are not supported (torch.save never writes them)`,
        );
      case 0x98: // READONLY_BUFFER: a no-op on in-band bytes
        top('READONLY_BUFFER');
        break;
      // ---- containers
      case 0x5d: // EMPTY_LIST
        push([]);
        break;
      case 0x7d: // EMPTY_DICT
        push(new PickleDict(false));
        break;
      case 0x29: // EMPTY_TUPLE
        push(new PickleTuple([]));
        break;
      case 0x8f: // EMPTY_SET
        push(new PickleSet([], false));
        break;
      case 0x85: {
        const a = pop('TUPLE1');
        push(new PickleTuple([a]));
        break;
      }
      case 0x86: {
        const b = pop('TUPLE2');
        const a = pop('TUPLE2');
        push(new PickleTuple([a, b]));
        break;
      }
      case 0x87: {
        const c = pop('TUPLE3');
        const b = pop('TUPLE3');
        const a = pop('TUPLE3');
        push(new PickleTuple([a, b, c]));
        break;
      }
      case 0x74: // TUPLE
        push(new PickleTuple(popMark('TUPLE')));
        break;
      case 0x6c: // LIST
        push(popMark('LIST'));
        break;
      case 0x64: {
        // DICT
        const items = popMark('DICT');
        if (items.length % 2 !== 0) throw new PickleError(`DICT at byte ${opPos}: odd number of items`);
        const d = new PickleDict(false);
        for (let i = 0; i < items.length; i += 2) d.set(items[i] as PickleValue, items[i + 1] as PickleValue);
        push(d);
        break;
      }
      case 0x91: // FROZENSET
        push(new PickleSet(popMark('FROZENSET'), true));
        break;
      case 0x61: {
        // APPEND
        const v = pop('APPEND');
        appendItems(top('APPEND'), [v], 'APPEND');
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark('APPENDS');
        appendItems(top('APPENDS'), items, 'APPENDS');
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop('SETITEM');
        const k = pop('SETITEM');
        setItem(top('SETITEM'), k, v, 'SETITEM');
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark('SETITEMS');
        if (items.length % 2 !== 0) throw new PickleError(`SETITEMS at byte ${opPos}: odd number of items`);
        const target = top('SETITEMS');
        for (let i = 0; i < items.length; i += 2)
          setItem(target, items[i] as PickleValue, items[i + 1] as PickleValue, 'SETITEMS');
        break;
      }
      case 0x90: {
        // ADDITEMS
        const items = popMark('ADDITEMS');
        const target = top('ADDITEMS');
        if (!(target instanceof PickleSet) || target.frozen) {
          throw new PickleError(`ADDITEMS at byte ${opPos}: target is a ${describe(target)}, not a set`);
        }
        for (const it of items) target.items.push(it);
        break;
      }
      // ---- memo
      case 0x70: // PUT (text)
        memoPut(intIndex(textInt(readline('PUT', 32), 'PUT'), 'PUT'), top('PUT'));
        break;
      case 0x71: // BINPUT
        memoPut(u8('BINPUT'), top('BINPUT'));
        break;
      case 0x72: // LONG_BINPUT
        memoPut(u32('LONG_BINPUT'), top('LONG_BINPUT'));
        break;
      case 0x94: // MEMOIZE
        memoPut(memo.size, top('MEMOIZE'));
        break;
      case 0x67: // GET (text)
        push(memoGet(intIndex(textInt(readline('GET', 32), 'GET'), 'GET')));
        break;
      case 0x68: // BINGET
        push(memoGet(u8('BINGET')));
        break;
      case 0x6a: // LONG_BINGET
        push(memoGet(u32('LONG_BINGET')));
        break;
      // ---- globals and objects (never called: see `call`)
      case 0x63: {
        // GLOBAL "module\nname\n"
        const module = readline('GLOBAL', 4096);
        const name = readline('GLOBAL', 4096);
        push(new PickleGlobal(utf8.decode(Buffer.from(module, 'latin1')), utf8.decode(Buffer.from(name, 'latin1'))));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop('STACK_GLOBAL');
        const module = pop('STACK_GLOBAL');
        if (typeof module !== 'string' || typeof name !== 'string') {
          throw new PickleError(`STACK_GLOBAL at byte ${opPos}: module and name must be strings`);
        }
        push(new PickleGlobal(module, name));
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84:
        throw new PickleUnsupportedOpcodeError(
          op,
          opPos,
          `EXT${op === 0x82 ? 1 : op === 0x83 ? 2 : 4} at byte ${opPos}: the copyreg extension registry is not supported (torch.save never uses it)`,
        );
      case 0x52: {
        // REDUCE
        const args = pop('REDUCE');
        const callable = pop('REDUCE');
        push(doCall(callable, argsOf(args, 'REDUCE'), 'reduce'));
        break;
      }
      case 0x81: {
        // NEWOBJ
        const args = pop('NEWOBJ');
        const cls = pop('NEWOBJ');
        push(doCall(cls, argsOf(args, 'NEWOBJ'), 'newobj'));
        break;
      }
      case 0x92: {
        // NEWOBJ_EX
        const kwargs = pop('NEWOBJ_EX');
        const args = pop('NEWOBJ_EX');
        const cls = pop('NEWOBJ_EX');
        if (!(kwargs instanceof PickleDict)) throw new PickleError(`NEWOBJ_EX at byte ${opPos}: kwargs are not a dict`);
        push(doCall(cls, argsOf(args, 'NEWOBJ_EX'), 'newobj', kwargs));
        break;
      }
      case 0x69: {
        // INST "module\nname\n" + MARK args
        const module = readline('INST', 4096);
        const name = readline('INST', 4096);
        const args = popMark('INST');
        push(doCall(new PickleGlobal(module, name), args, 'inst'));
        break;
      }
      case 0x6f: {
        // OBJ: MARK cls args...
        const items = popMark('OBJ');
        if (items.length === 0) throw new PickleError(`OBJ at byte ${opPos}: no class`);
        push(doCall(items[0] as PickleValue, items.slice(1), 'inst'));
        break;
      }
      case 0x62: {
        // BUILD
        const state = pop('BUILD');
        const inst = top('BUILD');
        if (inst instanceof PickleObject) {
          if (inst.state instanceof PickleDict && state instanceof PickleDict)
            for (const [k, v] of state.entries) inst.state.set(k, v);
          else inst.state = state;
        } else if (inst instanceof PickleDict) {
          inst.state = state;
        } else if (inst instanceof TorchTensor) {
          inst.pythonState = state;
        } else {
          throw new PickleError(`BUILD at byte ${opPos}: cannot set state on a ${describe(inst)}`);
        }
        break;
      }
      // ---- persistent ids
      case 0x51: {
        // BINPERSID
        const pid = pop('BINPERSID');
        if (!hooks.persistentLoad) throw new PickleError(`BINPERSID at byte ${opPos}: persistent id without a loader`);
        push(hooks.persistentLoad(pid));
        break;
      }
      case 0x50: {
        // PERSID (text)
        const pid = readline('PERSID', 4096);
        if (!hooks.persistentLoad) throw new PickleError(`PERSID at byte ${opPos}: persistent id without a loader`);
        push(hooks.persistentLoad(pid));
        break;
      }
      default:
        throw new PickleUnsupportedOpcodeError(op, opPos);
    }
  }
}
