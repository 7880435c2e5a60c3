// Explicit, seeded randomness. Nothing in this package calls Math.random or tfjs's global RNG:
// every random draw (noise, flow-matching time, weight init) comes from a RandomSource passed in,
// so a trainer that saves the source's state resumes bit-identically.

/** The one thing the models need from a random generator: uniform doubles in [0, 1). */
export interface RandomSource {
  uniform(): number;
}

/** A serialisable generator state (four unsigned 32-bit words). */
export interface SeededRandomState {
  algorithm: 'xoshiro128**';
  s: [number, number, number, number];
}

function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * xoshiro128** (Blackman & Vigna) seeded through splitmix32. `uniform()` uses 53 random bits
 * (two 32-bit outputs), so every double in [0, 1) on the 2^-53 grid is reachable.
 */
export class SeededRandom implements RandomSource {
  private s: Uint32Array;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    const sm = splitmix32(Math.floor(seed) >>> 0);
    this.s = new Uint32Array([sm(), sm(), sm(), sm()]);
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  static fromState(state: SeededRandomState): SeededRandom {
    if (state.algorithm !== 'xoshiro128**' || state.s.length !== 4) {
      throw new RangeError(`unsupported random state ${JSON.stringify(state)}; expected xoshiro128** with 4 words`);
    }
    const r = new SeededRandom(0);
    r.s = new Uint32Array(state.s.map((w) => w >>> 0));
    return r;
  }

  state(): SeededRandomState {
    const s = this.s;
    return { algorithm: 'xoshiro128**', s: [s[0]!, s[1]!, s[2]!, s[3]!] };
  }

  /** Next raw 32-bit output. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2] = s[2]! ^ s[0]!;
    s[3] = s[3]! ^ s[1]!;
    s[1] = s[1]! ^ s[2]!;
    s[0] = s[0]! ^ s[3]!;
    s[2] = s[2]! ^ t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** `n` standard normal draws (Box–Muller, both outputs used), rounded to float32. */
export function normalArray(rng: RandomSource, n: number): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u1 = 1 - rng.uniform(); // (0, 1]
    const u2 = rng.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
  }
  return out;
}

/** `n` uniform draws in [0, 1) as float64. */
export function uniformArray(rng: RandomSource, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform();
  return out;
}
