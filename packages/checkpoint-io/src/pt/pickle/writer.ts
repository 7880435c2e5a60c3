// Emits pickle opcodes into a growing buffer: the memo (globals and objects share one index space, as in
// CPython's Pickler), globals written once then fetched from the memo, and the compact encodings of ints,
// strings and tuples. What to write for each value is the caller's business (torch/pickler.ts).
import { OP } from './opcodes.js';

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

const TUPLE_N = [OP.TUPLE1, OP.TUPLE2, OP.TUPLE3] as const;
const utf8 = new TextEncoder();

export class PickleWriter {
  #buf = new Uint8Array(1 << 16);
  #len = 0;
  /** Memo index of each object written (by identity). */
  readonly memo = new Map<unknown, number>();
  readonly #globals = new Map<string, number>();

  #ensure(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let cap = this.#buf.length * 2;
    while (cap < this.#len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.#buf.subarray(0, this.#len));
    this.#buf = b;
  }

  /** One opcode (or any single byte). */
  op(b: number): void {
    this.#ensure(1);
    this.#buf[this.#len++] = b;
  }

  bytes(b: Uint8Array): void {
    this.#ensure(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }

  u16(v: number): void {
    this.#ensure(2);
    this.#buf[this.#len++] = v & 0xff;
    this.#buf[this.#len++] = (v >>> 8) & 0xff;
  }

  u32(v: number): void {
    this.#ensure(4);
    new DataView(this.#buf.buffer).setUint32(this.#len, v, true);
    this.#len += 4;
  }

  i32(v: number): void {
    this.#ensure(4);
    new DataView(this.#buf.buffer).setInt32(this.#len, v, true);
    this.#len += 4;
  }

  f64be(v: number): void {
    this.#ensure(8);
    new DataView(this.#buf.buffer).setFloat64(this.#len, v, false);
    this.#len += 8;
  }

  #memoIndex(idx: number): void {
    if (idx < 256) {
      this.op(OP.BINPUT);
      this.op(idx);
    } else {
      this.op(OP.LONG_BINPUT);
      this.u32(idx);
    }
  }

  /** Memoizes the value just written (BINPUT / LONG_BINPUT). */
  put(obj: unknown): void {
    const idx = this.memo.size + this.#globals.size;
    this.memo.set(obj, idx);
    this.#memoIndex(idx);
  }

  /** Pushes memo entry `idx` (BINGET / LONG_BINGET). */
  get(idx: number): void {
    if (idx < 256) {
      this.op(OP.BINGET);
      this.op(idx);
    } else {
      this.op(OP.LONG_BINGET);
      this.u32(idx);
    }
  }

  /** GLOBAL "module\nname\n", memoized: a second use of the same global is a memo get. */
  global(module: string, name: string): void {
    const k = `${module}\n${name}`;
    const at = this.#globals.get(k);
    if (at !== undefined) return this.get(at);
    this.op(OP.GLOBAL);
    this.bytes(utf8.encode(`${module}\n${name}\n`));
    const idx = this.memo.size + this.#globals.size;
    this.#globals.set(k, idx);
    this.#memoIndex(idx);
  }

  /** BINUNICODE. */
  str(s: string): void {
    const b = utf8.encode(s);
    this.op(OP.BINUNICODE);
    this.u32(b.length);
    this.bytes(b);
  }

  /** The shortest of BININT1 / BININT2 / BININT / LONG1 / LONG4 for `v`. */
  int(v: number | bigint): void {
    if (typeof v === 'number' && v >= 0 && v <= 0xff) {
      this.op(OP.BININT1);
      this.op(v);
    } else if (typeof v === 'number' && v >= 0 && v <= 0xffff) {
      this.op(OP.BININT2);
      this.u16(v);
    } else if (typeof v === 'number' && v >= -0x80000000 && v <= 0x7fffffff) {
      this.op(OP.BININT);
      this.i32(v);
    } else {
      const b = encodeLong(BigInt(v));
      if (b.length < 256) {
        this.op(OP.LONG1);
        this.op(b.length);
      } else {
        this.op(OP.LONG4);
        this.i32(b.length);
      }
      this.bytes(b);
    }
  }

  /** BINFLOAT. */
  float(v: number): void {
    this.op(OP.BINFLOAT);
    this.f64be(v);
  }

  /** A tuple of what `emit` writes: EMPTY_TUPLE, TUPLE1–3, or MARK … TUPLE. */
  tuple(emit: ReadonlyArray<() => void>): void {
    if (emit.length === 0) return this.op(OP.EMPTY_TUPLE);
    if (emit.length <= 3) {
      for (const e of emit) e();
      this.op(TUPLE_N[emit.length - 1] as number);
      return;
    }
    this.op(OP.MARK);
    for (const e of emit) e();
    this.op(OP.TUPLE);
  }

  /** A tuple of ints. */
  ints(xs: readonly number[]): void {
    this.tuple(xs.map((x) => () => this.int(x)));
  }

  result(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}
