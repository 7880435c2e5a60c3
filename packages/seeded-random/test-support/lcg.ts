// Test data from a 32-bit linear congruential generator (Numerical Recipes' a = 1664525, c = 1013904223): cheap,
// reproducible numbers for tests and benches whose expected values were made with them. Not the library's RNG
// (that is SeededRandom); repo-only, never in dist.

/** The generator's 32-bit states after `seed`, one per call: s <- (1664525 s + 1013904223) mod 2^32. */
export function lcgStates(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

/** Uniform numbers in [0, 1), one per call: state / 2^32. */
export function lcgUniform(seed: number): () => number {
  const next = lcgStates(seed);
  return () => next() / 2 ** 32;
}

/** `n` float32 values uniform in [-amplitude, amplitude]: (state / 2^31 - 1) * amplitude in float64, rounded to float32. */
export function lcgFloats(n: number, seed: number, amplitude = 1): Float32Array {
  const next = lcgStates(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (next() / 2 ** 31 - 1) * amplitude;
  return out;
}
