// A bounds-checked reader over the bytes of one pickle: every length is checked against the bytes actually
// present before anything is read or allocated; running off the end is a PickleTruncatedError.
import { PickleLimitError, PickleTruncatedError } from '../errors.js';

const latin1 = new TextDecoder('latin1');

export class ByteCursor {
  readonly view: DataView;
  readonly end: number;
  /** Offset of the next byte to read. */
  pos: number;
  /** Offset of the opcode being interpreted (for messages). */
  opPos: number;

  constructor(
    readonly data: Uint8Array,
    readonly start: number,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.end = data.byteLength;
    this.pos = start;
    this.opPos = start;
  }

  truncated(what: string): never {
    throw new PickleTruncatedError(
      `pickle ends inside ${what} at byte ${this.opPos} (${this.end - this.start} bytes of pickle); the file is truncated or corrupt`,
    );
  }

  need(n: number, what: string): void {
    if (n < 0 || n > this.end - this.pos) this.truncated(what);
  }

  take(n: number, what: string): Uint8Array {
    this.need(n, what);
    const b = this.data.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  u8(what: string): number {
    this.need(1, what);
    return this.data[this.pos++] as number;
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** An unsigned 64-bit length, clamped to `end + 1` when larger (so `need` rejects it as a safe number). */
  u64(what: string): number {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v > BigInt(this.end) ? this.end + 1 : Number(v);
  }

  f64be(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  /** A latin-1 line up to (not including) "\n", at most `max` bytes long. */
  readline(what: string, max = this.end - this.pos): string {
    const limit = Math.min(this.end, this.pos + max + 1);
    let i = this.pos;
    while (i < limit && this.data[i] !== 0x0a) i++;
    if (i >= limit) {
      if (limit === this.end) this.truncated(what);
      throw new PickleLimitError(`${what} at byte ${this.opPos}: line longer than ${max} bytes`);
    }
    const line = latin1.decode(this.data.subarray(this.pos, i));
    this.pos = i + 1;
    return line;
  }

  /** The raw bytes of a line up to (not including) "\n". */
  readlineBytes(what: string): Uint8Array {
    let i = this.pos;
    while (i < this.end && this.data[i] !== 0x0a) i++;
    if (i >= this.end) this.truncated(what);
    const b = this.data.subarray(this.pos, i);
    this.pos = i + 1;
    return b;
  }
}
