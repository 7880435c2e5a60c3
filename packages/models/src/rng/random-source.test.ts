import { describe, expect, it } from 'vitest';
import { normalArray, SeededRandom } from './random-source.js';

describe('SeededRandom', () => {
  it('is reproducible from a seed and resumes bit-identically from its state', () => {
    const a = new SeededRandom(42);
    const first = Array.from({ length: 5 }, () => a.uniform());
    expect(Array.from({ length: 5 }, () => new SeededRandom(42).uniform())[0]).toBe(first[0]);
    const saved = a.state();
    const rest = Array.from({ length: 5 }, () => a.uniform());
    const b = SeededRandom.fromState(JSON.parse(JSON.stringify(saved)));
    expect(Array.from({ length: 5 }, () => b.uniform())).toEqual(rest);
    expect(new SeededRandom(43).uniform()).not.toBe(first[0]);
  });

  it('uniforms lie in [0, 1) and normals have mean 0, variance 1', () => {
    const r = new SeededRandom(1);
    const n = normalArray(r, 40_001);
    let m = 0;
    let v = 0;
    for (const x of n) m += x / n.length;
    for (const x of n) v += (x - m) ** 2 / n.length;
    expect(Math.abs(m)).toBeLessThan(0.02);
    expect(Math.abs(v - 1)).toBeLessThan(0.03);
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform();
      expect(u >= 0 && u < 1).toBe(true);
    }
  });
});
