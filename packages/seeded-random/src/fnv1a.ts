// The one string hash of vla-lora: FNV-1a, 32 bits (http://www.isthe.com/chongo/tech/comp/fnv/).

/**
 * FNV-1a (32-bit, unsigned) of `s`'s UTF-16 code units (for ASCII strings: the same as FNV-1a of their
 * bytes). Stable across platforms and versions: used for RNG stream ids and word-hash token ids.
 */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}
