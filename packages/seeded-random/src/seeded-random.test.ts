import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fnv1a32, SeededRandom, type SeededRandomState } from './index.js';

// Made by the reference C code (fixtures/seeded-random/make.c, gcc): xoshiro128** and FNV-1a as published.
const reference = JSON.parse(
  readFileSync(new URL('../../../fixtures/seeded-random/reference.json', import.meta.url), 'utf8'),
) as {
  xoshiro128starstar: { state: SeededRandomState['s']; outputs: number[] }[];
  fnv1a32: Record<string, number>;
};

describe('SeededRandom', () => {
  it('steps xoshiro128** exactly as the reference C implementation', () => {
    for (const { state, outputs } of reference.xoshiro128starstar) {
      const r = SeededRandom.fromState({ algorithm: 'xoshiro128**', s: state });
      expect(outputs.map(() => r.nextUint32())).toEqual(outputs);
    }
  });

  it('is reproducible from a seed and resumes bit-identically from its state', () => {
    const a = new SeededRandom(42);
    const first = Array.from({ length: 5 }, () => a.uniform());
    expect(new SeededRandom(42).uniform()).toBe(first[0]);
    const saved = a.state();
    const rest = Array.from({ length: 5 }, () => a.uniform());
    const b = SeededRandom.fromState(JSON.parse(JSON.stringify(saved)));
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(rest);
    expect(new SeededRandom(43).uniform()).not.toBe(first[0]);
  });

  it('uniform() uses 53 bits of two outputs, uniform32() one output / 2^32; both lie in [0, 1)', () => {
    const raw = new SeededRandom(7);
    const a = new SeededRandom(7);
    const x = raw.nextUint32();
    const y = raw.nextUint32();
    expect(a.uniform()).toBe(((x >>> 5) * 2 ** 26 + (y >>> 6)) / 2 ** 53);
    expect(a.uniform32()).toBe(raw.nextUint32() / 2 ** 32);
    for (let i = 0; i < 1000; i++) {
      const u = a.uniform();
      const v = a.uniform32();
      expect(u >= 0 && u < 1 && v >= 0 && v < 1).toBe(true);
    }
  });

  it('refuses a non-finite seed and a foreign state', () => {
    expect(() => new SeededRandom(Number.NaN)).toThrow(RangeError);
    expect(() =>
      SeededRandom.fromState({ algorithm: 'mt19937', s: [1, 2, 3, 4] } as unknown as SeededRandomState),
    ).toThrow(/xoshiro128\*\*/);
  });
});

describe('fnv1a32', () => {
  it('matches the reference FNV-1a (32-bit) values', () => {
    for (const [word, h] of Object.entries(reference.fnv1a32)) expect(fnv1a32(word)).toBe(h);
  });
});
