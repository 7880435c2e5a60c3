// The one seeded generator of vla-lora: xoshiro128** (Blackman & Vigna) seeded through splitmix32.
// Pure integer arithmetic on 32-bit words, so the same seed gives the same sequence on every
// platform; the state is four words and serialises to JSON, so a resumed run continues bit-identically.

/** The one thing consumers need from a random generator: uniform doubles in [0, 1). */
export interface RandomSource {
  uniform(): number;
}

/** A serialisable generator state (four unsigned 32-bit words). */
export interface SeededRandomState {
  algorithm: 'xoshiro128**';
  s: [number, number, number, number];
}

/** splitmix32 from `seed` (taken as its low 32 bits): each call adds 0x9e3779b9 and mixes. */
export function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let z = a;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/**
 * xoshiro128** seeded through splitmix32 (four outputs fill the state; an all-zero state becomes
 * [1, 0, 0, 0]). `nextUint32()` is the raw output; `uniform()` uses 53 random bits (two outputs), so
 * every double in [0, 1) on the 2^-53 grid is reachable; `uniform32()` uses one output (k / 2^32).
 */
export class SeededRandom implements RandomSource {
  private s: Uint32Array;

  /** `seed`: a finite number; its floor's low 32 bits seed splitmix32. */
  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    const sm = splitmix32(Math.floor(seed) >>> 0);
    this.s = new Uint32Array([sm(), sm(), sm(), sm()]);
    if (this.s.every((w) => w === 0)) this.s[0] = 1;
  }

  /** The generator that continues from `state` (what `state()` returned). */
  static fromState(state: SeededRandomState): SeededRandom {
    if (state?.algorithm !== 'xoshiro128**' || !Array.isArray(state.s) || state.s.length !== 4) {
      throw new RangeError(`unsupported random state ${JSON.stringify(state)}; expected xoshiro128** with 4 words`);
    }
    const r = new SeededRandom(0);
    r.s = new Uint32Array(state.s.map((w) => w >>> 0));
    return r;
  }

  /** The current state: JSON-serialisable; `fromState` continues from it. */
  state(): SeededRandomState {
    const s = this.s;
    return { algorithm: 'xoshiro128**', s: [s[0]!, s[1]!, s[2]!, s[3]!] };
  }

  /** Next raw 32-bit output (unsigned). */
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

  /** Uniform in [0, 1) from 53 random bits (two outputs). */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform in [0, 1) from one output: k / 2^32 (cheaper, 32 bits of resolution). */
  uniform32(): number {
    return this.nextUint32() / 4294967296;
  }
}
