// Decoders for the text and integer payloads of pickle opcodes: LONG1/LONG4 two's-complement integers,
// protocol 0's string-escape (STRING) and raw-unicode-escape (UNICODE), and text floats (FLOAT).
import { PickleError } from '../errors.js';
import { hexOf } from '../bytes.js';

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
  const hex = hexOf(b.slice().reverse());
  let v = BigInt(`0x${hex}`);
  if (negative) v -= 1n << BigInt(8 * n);
  return normalizeInt(v);
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
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

/** Decodes one escape starting after the backslash at `s[i]`; returns the index of its last character. */
function decodeEscape(s: string, i: number, out: number[], pos: number): number {
  const e = s[i] as string;
  if (e in SIMPLE_ESCAPES) {
    out.push(SIMPLE_ESCAPES[e] as number);
    return i;
  }
  if (e === '\n') return i;
  if (e === 'x') {
    const h = s.slice(i + 1, i + 3);
    if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new PickleError(`STRING at byte ${pos}: bad \\x escape`);
    out.push(parseInt(h, 16));
    return i + 2;
  }
  if (e >= '0' && e <= '7') {
    let j = i;
    while (j < s.length && j < i + 3 && (s[j] as string) >= '0' && (s[j] as string) <= '7') j++;
    out.push(parseInt(s.slice(i, j), 8) & 0xff);
    return j - 1;
  }
  out.push(0x5c, e.charCodeAt(0) & 0xff);
  return i;
}

/** Decodes Python's string-escape (the body of a protocol 0 STRING) to bytes. */
export function escapeDecode(s: string, pos: number): Uint8Array {
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
    i = decodeEscape(s, i, out, pos);
  }
  return Uint8Array.from(out);
}

/** Decodes raw-unicode-escape (the body of a protocol 0 UNICODE). */
export function rawUnicodeEscapeDecode(b: Uint8Array, pos: number): string {
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
export const INT_TEXT = /^[+-]?\d+$/;

/** The value of a protocol 0 FLOAT line (Python's float(): inf, nan, exponents). */
export function parseTextFloat(text: string, pos: number): number {
  const line = text.trim();
  if (!FLOAT_TEXT.test(line))
    throw new PickleError(`FLOAT at byte ${pos}: not a float: ${JSON.stringify(line.slice(0, 40))}`);
  const l = line.toLowerCase().replace(/^\+/, '');
  if (l === 'nan' || l === '-nan') return NaN;
  if (l === 'inf' || l === 'infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  return Number(line);
}
