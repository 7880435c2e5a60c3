// Explicit, seeded randomness. Nothing in this package calls Math.random or tfjs's global RNG:
// every random draw (noise, flow-matching time, weight init) comes from a RandomSource passed in,
// so a trainer that saves the source's state resumes bit-identically.

// The generator itself is @vla-lora/seeded-random's (the one seeded RNG of vla-lora).
import type { RandomSource } from '@vla-lora/seeded-random';

export { type RandomSource, SeededRandom, type SeededRandomState } from '@vla-lora/seeded-random';

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
