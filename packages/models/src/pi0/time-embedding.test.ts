import { describe, expect, it } from 'vitest';
import { linspace64, sincosTimeEmbedding } from './time-embedding.js';

describe('sin-cos time embedding (openpi create_sinusoidal_pos_embedding)', () => {
  it('dim 4, periods 4e-3 and 4.0: hand-computed values', () => {
    // fraction = [0, 1] -> periods [4e-3, 4.0] -> angular frequencies 2pi/4e-3 = 500pi and 2pi/4 = pi/2.
    const t = 0.5;
    const emb = sincosTimeEmbedding([t, 0], 4);
    const expected = [
      Math.sin(500 * Math.PI * t),
      Math.sin((Math.PI / 2) * t),
      Math.cos(500 * Math.PI * t),
      Math.cos((Math.PI / 2) * t),
    ];
    expected.forEach((e, i) => expect(emb[i]).toBeCloseTo(e, 6));
    expect(Array.from(emb.subarray(4))).toEqual([0, 0, 1, 1]); // t = 0: sin 0, cos 1
    expect(emb[1]).toBeCloseTo(Math.SQRT1_2, 6); // sin(pi/4)
  });

  it('dim 6: the middle period is the geometric mean (fraction 0.5)', () => {
    const emb = sincosTimeEmbedding([1], 6);
    const mid = 4e-3 * Math.pow(1000, 0.5);
    expect(emb[1]).toBeCloseTo(Math.fround(Math.sin((2 * Math.PI) / mid)), 6);
    expect(emb[4]).toBeCloseTo(Math.fround(Math.cos((2 * Math.PI) / mid)), 6);
  });

  it("linspace64 follows torch's two-sided formula", () => {
    expect(Array.from(linspace64(0, 1, 5))).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace64(0, 1, 3)[2]).toBe(1);
    expect(Array.from(linspace64(2, 2, 1))).toEqual([2]);
  });

  it('refuses odd dimensions', () => {
    expect(() => sincosTimeEmbedding([0], 3)).toThrow(/divisible by 2/);
  });
});
