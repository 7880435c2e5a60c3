// Small deterministic PRNG (splitmix32 seeding + xoshiro128**), independent of Math.random.
// The generator is @vla-lora/seeded-random's (the one seeded RNG of vla-lora); this class adds the
// draws the generator and sampler need, each from 32-bit outputs, and the (seed, stream) seeding.
import { SeededRandom } from '@vla-lora/seeded-random';

/** Seeded generator: uniform floats in [0,1), integers, normals. Same seed → same sequence on every platform. */
export class Rng {
  private readonly source: SeededRandom;
  private spare: number | undefined;

  constructor(seed: number, stream = 0) {
    this.source = new SeededRandom((Math.floor(seed) ^ Math.imul(stream + 1, 0x632be5ab)) | 0);
  }

  /** Next 32-bit unsigned integer. */
  nextU32(): number {
    return this.source.nextUint32();
  }

  /** Uniform in [0, 1) (one 32-bit output / 2^32). */
  uniform(): number {
    return this.source.uniform32();
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** Fisher–Yates permutation of 0..n-1 drawn from `rng`. */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
