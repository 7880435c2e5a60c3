import { describe, expect, it } from 'vitest';
import { lcgFloats, lcgStates, lcgUniform } from '../test-support/lcg.js';

/** The recurrence in exact integer arithmetic: s <- (1664525 s + 1013904223) mod 2^32. */
function bigStates(seed: number, n: number): number[] {
  let s = BigInt(seed >>> 0);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (1664525n * s + 1013904223n) % 2n ** 32n;
    out.push(Number(s));
  }
  return out;
}

describe('test-support LCG', () => {
  it('steps Numerical Recipes’ recurrence (Math.imul wraps like the exact mod 2^32)', () => {
    for (const seed of [0, 1, 42, 0xffffffff, -7]) {
      const next = lcgStates(seed);
      expect(Array.from({ length: 200 }, next)).toEqual(bigStates(seed, 200));
    }
    expect(bigStates(0, 3)).toEqual([1013904223, 1196435762, 3519870697]);
  });

  it('maps the states to [0, 1) and to float32 values in [-amplitude, amplitude]', () => {
    const states = bigStates(9, 500);
    const u = lcgUniform(9);
    expect(states.map(() => u())).toEqual(states.map((s) => s / 2 ** 32));
    const f = lcgFloats(500, 9, 0.25);
    expect(Array.from(f)).toEqual(states.map((s) => Math.fround((s / 2 ** 31 - 1) * 0.25)));
    for (const v of lcgFloats(10_000, 3, 2)) expect(v >= -2 && v <= 2).toBe(true);
  });
});
