// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11; the generator
// behind torch's CUDA RNG and JAX's threefry-like counter schemes): a counter-based PRNG. Its whole
// state is (key, counter, position in the current block) — a few integers that serialise to JSON,
// so a resumed run draws exactly the numbers the uninterrupted run would have drawn.
import { RngStateError } from '../errors.js';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two uint32. */
function mulhi(a: number, b: number): number {
  const aHi = a >>> 16;
  const aLo = a & 0xffff;
  const bHi = b >>> 16;
  const bLo = b & 0xffff;
  const lo = aLo * bLo;
  const mid1 = aHi * bLo;
  const mid2 = aLo * bHi;
  const carry = ((lo >>> 16) + (mid1 & 0xffff) + (mid2 & 0xffff)) >>> 16;
  return (aHi * bHi + (mid1 >>> 16) + (mid2 >>> 16) + carry) >>> 0;
}

/** One Philox4x32-10 block: 4 uint32 from a 128-bit counter and a 64-bit key. */
export function philox4x32(counter: readonly number[], key: readonly number[]): [number, number, number, number] {
  let c0 = counter[0]! >>> 0;
  let c1 = counter[1]! >>> 0;
  let c2 = counter[2]! >>> 0;
  let c3 = counter[3]! >>> 0;
  let k0 = key[0]! >>> 0;
  let k1 = key[1]! >>> 0;
  for (let r = 0; r < 10; r++) {
    const hi0 = mulhi(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulhi(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    const n0 = (hi1 ^ c1 ^ k0) >>> 0;
    const n2 = (hi0 ^ c3 ^ k1) >>> 0;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  return [c0, c1, c2, c3];
}

/** Serialisable state of a `Philox` stream. */
export interface PhiloxState {
  kind: 'philox4x32-10';
  key: [number, number];
  /** 128-bit block counter as four uint32, least significant first. */
  counter: [number, number, number, number];
  /** Words of the current block already used (0..4). */
  used: number;
}

const isU32 = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 0xffffffff;

/** A stream of random numbers with an exact, JSON-serialisable state. */
export class Philox {
  private key: [number, number];
  private counter: [number, number, number, number];
  private block: [number, number, number, number];
  private used: number;

  constructor(seedLo: number, seedHi = 0) {
    this.key = [seedLo >>> 0, seedHi >>> 0];
    this.counter = [0, 0, 0, 0];
    this.block = philox4x32(this.counter, this.key);
    this.used = 0;
  }

  static fromState(state: unknown): Philox {
    const s = state as Partial<PhiloxState> | null;
    if (
      !s ||
      s.kind !== 'philox4x32-10' ||
      !Array.isArray(s.key) ||
      s.key.length !== 2 ||
      !s.key.every(isU32) ||
      !Array.isArray(s.counter) ||
      s.counter.length !== 4 ||
      !s.counter.every(isU32) ||
      typeof s.used !== 'number' ||
      !Number.isInteger(s.used) ||
      s.used < 0 ||
      s.used > 4
    ) {
      throw new RngStateError(
        `not a philox4x32-10 state: ${JSON.stringify(state)}; the checkpoint's rng_state is damaged or from another generator`,
      );
    }
    const p = new Philox(s.key[0], s.key[1]);
    p.counter = [...s.counter] as [number, number, number, number];
    p.block = philox4x32(p.counter, p.key);
    p.used = s.used;
    return p;
  }

  state(): PhiloxState {
    return { kind: 'philox4x32-10', key: [...this.key], counter: [...this.counter], used: this.used };
  }

  private advance(): void {
    for (let i = 0; i < 4; i++) {
      const v = ((this.counter[i] as number) + 1) >>> 0;
      this.counter[i] = v;
      if (v !== 0) break;
    }
    this.block = philox4x32(this.counter, this.key);
    this.used = 0;
  }

  /** A uniform uint32. */
  nextU32(): number {
    if (this.used === 4) this.advance();
    return this.block[this.used++] as number;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const a = this.nextU32() >>> 5;
    const b = this.nextU32() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [0, n) without modulo bias. */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 0x100000000)
      throw new RangeError(`int(n) needs 1 <= n <= 2^32, got ${n}`);
    const limit = 0x100000000 - (0x100000000 % n);
    for (;;) {
      const x = this.nextU32();
      if (x < limit) return x % n;
    }
  }

  /** Standard normal (Box–Muller; no cached second value, so the state stays the counter alone). */
  normal(): number {
    let u = this.uniform();
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fills `out` with standard normals. */
  fillNormal(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.normal();
    return out;
  }

  /** Fills `out` with uniforms in [0, 1). */
  fillUniform(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform();
    return out;
  }

  /** Beta(a, 1) by inversion: U^(1/a) (openpi samples time from Beta(1.5, 1)). */
  betaA1(a: number): number {
    return Math.pow(this.uniform(), 1 / a);
  }

  /** Beta(a, b) for general a, b > 0 via two gammas (Marsaglia–Tsang). */
  beta(a: number, b: number): number {
    if (b === 1) return this.betaA1(a);
    const x = this.gamma(a);
    const y = this.gamma(b);
    return x / (x + y);
  }

  /** Gamma(shape, 1), Marsaglia–Tsang. */
  gamma(shape: number): number {
    if (shape < 1) return this.gamma(shape + 1) * Math.pow(this.uniform() || Number.MIN_VALUE, 1 / shape);
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = this.normal();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = this.uniform();
      if (u < 1 - 0.0331 * x * x * x * x) return d * v;
      if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
    }
  }

  /** Fisher–Yates permutation of 0..n-1. */
  permutation(n: number): number[] {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = p[i] as number;
      p[i] = p[j] as number;
      p[j] = t;
    }
    return p;
  }
}
