// The state of the pickle VM (stack, MARK stack, memo, limits) and the checked operations every opcode handler
// uses. Nothing here calls anything: calls of globals go to the `call` hook, which builds inert values.
import { PickleError, PickleLimitError } from '../errors.js';
import { ByteCursor } from './cursor.js';
import type { OpName } from './opcodes.js';
import { INT_TEXT, normalizeInt } from './text.js';
import { PickleDict, PickleGlobal, PickleObject, PickleTuple, type PickleValue } from './values.js';

export type CallKind = 'reduce' | 'newobj' | 'inst';

export interface UnpickleHooks {
  /** Resolves a persistent id (BINPERSID / PERSID). Without it, a persistent id is an error. */
  persistentLoad?: (pid: PickleValue) => PickleValue;
  /** Builds the value of a call to a global. Defaults to an inert PickleObject for every global. */
  call?: (callable: PickleGlobal, args: PickleValue[], kind: CallKind, kwargs: PickleDict | undefined) => PickleValue;
  /** Sees every global the pickle names (GLOBAL, STACK_GLOBAL, INST), before it is used. */
  onGlobal?: (global: PickleGlobal) => void;
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

const latin1 = new TextDecoder('latin1');
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** A short name of a value's Python type, for messages. */
export function describe(v: PickleValue): string {
  if (v === null) return 'None';
  if (Array.isArray(v)) return 'list';
  if (v instanceof Uint8Array) return 'bytes';
  if (typeof v === 'object') return v.constructor.name;
  return typeof v;
}

export class PickleMachine {
  readonly cursor: ByteCursor;
  readonly maxMemo: number;
  readonly maxStack: number;
  readonly maxIntBytes: number;
  readonly encoding: 'utf-8' | 'latin1' | 'bytes';
  readonly memo = new Map<number, PickleValue>();
  stack: PickleValue[] = [];
  readonly metastack: PickleValue[][] = [];
  /** Values on all stacks, for the limit. */
  total = 0;
  /** Set by STOP. */
  result: UnpickleResult | undefined = undefined;

  constructor(
    data: Uint8Array,
    start: number,
    readonly hooks: UnpickleHooks,
    options: UnpickleOptions,
  ) {
    this.cursor = new ByteCursor(data, start);
    this.maxMemo = options.maxMemo ?? 2 ** 26;
    this.maxStack = options.maxStack ?? 2 ** 26;
    this.maxIntBytes = options.maxIntBytes ?? 65536;
    this.encoding = options.stringEncoding ?? 'utf-8';
  }

  get opPos(): number {
    return this.cursor.opPos;
  }

  #count(): void {
    if (++this.total > this.maxStack)
      throw new PickleLimitError(`pickle stack exceeds ${this.maxStack} values (option maxStack)`);
  }

  push(v: PickleValue): void {
    this.#count();
    this.stack.push(v);
  }

  pop(what: string): PickleValue {
    if (this.stack.length === 0)
      throw new PickleError(`${what} at byte ${this.opPos}: stack underflow (corrupt pickle)`);
    this.total--;
    return this.stack.pop() as PickleValue;
  }

  top(what: string): PickleValue {
    if (this.stack.length === 0) throw new PickleError(`${what} at byte ${this.opPos}: empty stack (corrupt pickle)`);
    return this.stack[this.stack.length - 1] as PickleValue;
  }

  mark(): void {
    this.#count();
    this.metastack.push(this.stack);
    this.stack = [];
  }

  /** The items pushed since the last MARK (the MARK is removed). */
  popMark(what: string): PickleValue[] {
    const items = this.stack;
    const prev = this.metastack.pop();
    if (prev === undefined)
      throw new PickleError(`${what} at byte ${this.opPos}: no MARK on the stack (corrupt pickle)`);
    this.stack = prev;
    this.total -= items.length + 1;
    return items;
  }

  memoPut(idx: number, v: PickleValue): void {
    if (!this.memo.has(idx) && this.memo.size >= this.maxMemo)
      throw new PickleLimitError(`pickle memo exceeds ${this.maxMemo} entries (option maxMemo)`);
    this.memo.set(idx, v);
  }

  memoGet(idx: number): PickleValue {
    const v = this.memo.get(idx);
    if (v === undefined)
      throw new PickleError(`memo key ${idx} at byte ${this.opPos} was never stored (corrupt pickle)`);
    return v;
  }

  /** A Python 2 `str` (STRING / BINSTRING / SHORT_BINSTRING) decoded as options.stringEncoding says. */
  decodePy2Str(b: Uint8Array): PickleValue {
    if (this.encoding === 'bytes') return b.slice();
    if (this.encoding === 'latin1') return latin1.decode(b);
    try {
      return utf8Strict.decode(b);
    } catch {
      throw new PickleError(
        `Python 2 string at byte ${this.opPos} is not valid UTF-8; read it with stringEncoding 'latin1' or 'bytes'`,
      );
    }
  }

  /** A protocol 0 decimal integer (INT, LONG, PUT, GET), bounded by maxIntBytes digits. */
  textInt(line: string, what: string): number | bigint {
    const t = line.endsWith('L') ? line.slice(0, -1) : line;
    if (t.length > this.maxIntBytes)
      throw new PickleLimitError(`${what} at byte ${this.opPos}: integer of ${t.length} digits`);
    if (!INT_TEXT.test(t))
      throw new PickleError(`${what} at byte ${this.opPos}: not an integer: ${JSON.stringify(t.slice(0, 40))}`);
    return normalizeInt(BigInt(t));
  }

  /** A memo index read as text (PUT / GET). */
  textIndex(what: string): number {
    const v = this.textInt(this.cursor.readline(what, 32), what);
    if (typeof v !== 'number' || v < 0) throw new PickleError(`${what} at byte ${this.opPos}: bad memo index`);
    return v;
  }

  /** Announces a global to the onGlobal hook and returns it. */
  global(module: string, name: string): PickleGlobal {
    const g = new PickleGlobal(module, name);
    this.hooks.onGlobal?.(g);
    return g;
  }

  /** REDUCE / NEWOBJ / INST / OBJ: hands a call of a named global to the `call` hook (nothing is executed). */
  call(callable: PickleValue, args: PickleValue[], kind: CallKind, kwargs?: PickleDict): PickleValue {
    if (!(callable instanceof PickleGlobal)) {
      throw new PickleError(
        `${kind} at byte ${this.opPos}: callable is a ${describe(callable)}, not a global; this reader only records calls of named globals`,
      );
    }
    if (this.hooks.call) return this.hooks.call(callable, args, kind, kwargs);
    return new PickleObject(callable.module, callable.name, args, kwargs, kind);
  }

  argsOf(v: PickleValue, what: string): PickleValue[] {
    if (v instanceof PickleTuple) return v.items;
    if (Array.isArray(v)) return v;
    throw new PickleError(`${what} at byte ${this.opPos}: arguments are a ${describe(v)}, not a tuple`);
  }

  setItem(target: PickleValue, k: PickleValue, v: PickleValue, what: string): void {
    if (target instanceof PickleDict) target.set(k, v);
    else if (target instanceof PickleObject) target.dictItems.push([k, v]);
    else throw new PickleError(`${what} at byte ${this.opPos}: target is a ${describe(target)}, not a dict`);
  }

  appendItems(target: PickleValue, items: PickleValue[], what: string): void {
    if (Array.isArray(target)) for (const it of items) target.push(it);
    else if (target instanceof PickleObject) for (const it of items) target.listItems.push(it);
    else throw new PickleError(`${what} at byte ${this.opPos}: target is a ${describe(target)}, not a list`);
  }
}

/** Interprets one opcode whose byte has been consumed (its argument bytes have not). */
export type OpHandler = (m: PickleMachine, op: number) => void;

/** A group of handlers by opcode name (CPython's pickle.py: `dispatch[NAME[0]] = load_name`). */
export type OpHandlers = Partial<Record<OpName, OpHandler>>;
