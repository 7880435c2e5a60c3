// Byte ⇄ text helpers without Buffer, so the .pt reader also runs in browsers (`@vla-lora/checkpoint-io/browser`).

/** Each byte as one char U+0000–U+00FF (Python's latin-1). */
export function latin1Decode(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode(...b.subarray(i, i + 8192));
  return s;
}

/** Each char U+0000–U+00FF as one byte (chars above U+00FF keep their low byte, as Buffer's 'latin1' does). */
export function latin1Encode(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Lower-case hex of the bytes, first byte first. */
export function hexOf(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

/** A fresh, unshared Uint8Array of `length` bytes (not zero-filled under Node: every byte is overwritten by the caller). */
export function allocUnfilled(length: number): Uint8Array {
  if (typeof Buffer !== 'undefined') {
    // Unpooled: a plain view of its own ArrayBuffer, so callers' `.slice()` copies and `.buffer` holds only this data.
    const raw = Buffer.allocUnsafeSlow(length);
    return new Uint8Array(raw.buffer, raw.byteOffset, length);
  }
  return new Uint8Array(length);
}

/** Positioned reads, as Node's FileHandle offers them (and sourceHandle over a ByteSource). */
export interface PreadHandle {
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
}
