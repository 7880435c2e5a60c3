// IEEE binary16 (F16) and bfloat16 (BF16) <-> float32, round to nearest even, NaN/Inf/subnormals
// handled as PyTorch does. Loops over typed arrays; no per-element allocation.

let f16Table: Float32Array | undefined;

/** Decodes one binary16 bit pattern (used to build the lookup table; not the hot path). */
function decodeF16(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

function f16LookupTable(): Float32Array {
  if (f16Table === undefined) {
    const table = new Float32Array(65536);
    const bits = new Uint32Array(table.buffer);
    for (let h = 0; h < 65536; h++) {
      const exp = (h >>> 10) & 0x1f;
      if (exp === 0x1f && (h & 0x3ff) !== 0) {
        // keep sign and payload of NaNs the way a bit-exact widening does
        bits[h] = ((h & 0x8000) << 16) | 0x7f800000 | ((h & 0x3ff) << 13);
      } else {
        table[h] = decodeF16(h);
      }
    }
    f16Table = table;
  }
  return f16Table;
}

/** float16 bits -> float32 (exact). */
export function f16ToF32(src: Uint16Array, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(src.length);
  const table = f16LookupTable();
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i]!]!;
  return dst;
}

/** bfloat16 bits -> float32 (exact: bf16 is the top half of a float32). */
export function bf16ToF32(src: Uint16Array, out?: Float32Array): Float32Array {
  const dst = out ?? new Float32Array(src.length);
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0; i < src.length; i++) bits[i] = src[i]! << 16;
  return dst;
}

/** float32 -> bfloat16 bits, round to nearest even (as torch); NaN -> 0x7fc0, overflow rounds to Inf. */
export function f32ToBf16(src: Float32Array, out?: Uint16Array): Uint16Array {
  const dst = out ?? new Uint16Array(src.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i]!;
    if ((x & 0x7fffffff) > 0x7f800000) {
      dst[i] = 0x7fc0; // torch's canonical bf16 NaN
    } else {
      dst[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    }
  }
  return dst;
}

/** float32 -> float16 bits, round to nearest even; subnormals, overflow to Inf and NaN as IEEE says. */
export function f32ToF16(src: Float32Array, out?: Uint16Array): Uint16Array {
  const dst = out ?? new Uint16Array(src.length);
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  for (let i = 0; i < bits.length; i++) {
    const x = bits[i]!;
    const sign = (x >>> 16) & 0x8000;
    const exp = (x >>> 23) & 0xff;
    const mant = x & 0x7fffff;
    if (exp === 0xff) {
      // Inf stays Inf; NaN becomes torch's canonical quiet NaN (sign kept)
      dst[i] = mant === 0 ? sign | 0x7c00 : sign | 0x7e00;
      continue;
    }
    const e = exp - 112; // rebias 127 -> 15
    if (e >= 0x1f) {
      dst[i] = sign | 0x7c00;
    } else if (e > 0) {
      const low = mant & 0x1fff;
      let h = (e << 10) | (mant >>> 13);
      if (low > 0x1000 || (low === 0x1000 && (h & 1) === 1)) h += 1; // carry may reach Inf: correct
      dst[i] = sign | h;
    } else {
      const shift = 14 - e; // >= 14
      if (shift >= 25 || exp === 0) {
        dst[i] = sign; // below half the smallest subnormal (or an f32 subnormal): signed zero
        continue;
      }
      const full = mant | 0x800000;
      let m = full >>> shift;
      const rem = full & ((1 << shift) - 1);
      const half = 1 << (shift - 1);
      if (rem > half || (rem === half && (m & 1) === 1)) m += 1; // may become the smallest normal: correct
      dst[i] = sign | m;
    }
  }
  return dst;
}
