// float8 (E4M3 "fn" as torch.float8_e4m3fn, and E5M2) -> float32 via 256-entry tables.

let e4m3: Float32Array | undefined;
let e5m2: Float32Array | undefined;

function buildE4M3(): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    const sign = b & 0x80 ? -1 : 1;
    const exp = (b >>> 3) & 0xf;
    const mant = b & 0x7;
    if (exp === 0xf && mant === 0x7)
      t[b] = NaN; // e4m3fn: no Inf, one NaN per sign
    else if (exp === 0) t[b] = sign * mant * 2 ** -9;
    else t[b] = sign * (1 + mant / 8) * 2 ** (exp - 7);
  }
  return t;
}

function buildE5M2(): Float32Array {
  const t = new Float32Array(256);
  for (let b = 0; b < 256; b++) {
    const sign = b & 0x80 ? -1 : 1;
    const exp = (b >>> 2) & 0x1f;
    const mant = b & 0x3;
    if (exp === 0x1f) t[b] = mant === 0 ? sign * Infinity : NaN;
    else if (exp === 0) t[b] = sign * mant * 2 ** -16;
    else t[b] = sign * (1 + mant / 4) * 2 ** (exp - 15);
  }
  return t;
}

export function f8e4m3ToF32(src: Uint8Array, out?: Float32Array): Float32Array {
  const table = (e4m3 ??= buildE4M3());
  const dst = out ?? new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i]!]!;
  return dst;
}

export function f8e5m2ToF32(src: Uint8Array, out?: Float32Array): Float32Array {
  const table = (e5m2 ??= buildE5M2());
  const dst = out ?? new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) dst[i] = table[src[i]!]!;
  return dst;
}
