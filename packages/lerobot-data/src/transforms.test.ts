import { describe, expect, it } from 'vitest';
import { actionChunk } from './action-chunk.js';
import {
  LIBERO_DELTA_MASK,
  absoluteActions,
  deltaActions,
  makeBoolMask,
  normalize,
  padToDim,
  unnormalize,
} from './transforms.js';

describe('action chunks (LeRobot delta_timestamps semantics)', () => {
  // episode of 4 frames, 2-d actions: row r = [10r, 10r+1]
  const acts = Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31]);
  it('takes rows t..t+H-1 inside the episode, no padding', () => {
    const c = actionChunk(acts, 2, 4, 1, 3);
    expect(Array.from(c.actions)).toEqual([10, 11, 20, 21, 30, 31]);
    expect(Array.from(c.isPad)).toEqual([0, 0, 0]);
  });
  it('repeats the last action past the episode end and flags it', () => {
    const c = actionChunk(acts, 2, 4, 2, 5);
    expect(Array.from(c.actions)).toEqual([20, 21, 30, 31, 30, 31, 30, 31, 30, 31]);
    expect(Array.from(c.isPad)).toEqual([0, 0, 1, 1, 1]);
  });
  it('rejects rows outside the episode', () => {
    expect(() => actionChunk(acts, 2, 4, 4, 2)).toThrow(RangeError);
  });
});

describe('openpi transforms', () => {
  it('make_bool_mask and the LIBERO delta mask', () => {
    expect(makeBoolMask(2, -2, 2)).toEqual([true, true, false, false, true, true]);
    expect(LIBERO_DELTA_MASK).toEqual([true, true, true, true, true, true, false]);
  });
  it('DeltaActions subtracts the state on masked dims of every row; AbsoluteActions inverts it', () => {
    const state = Float32Array.from([1, 2, 3, 4, 5, 6, 0.04, -0.04]);
    const a = Float32Array.from(
      [
        [2, 2, 2, 2, 2, 2, 1],
        [3, 3, 3, 3, 3, 3, -1],
      ].flat(),
    );
    deltaActions(a, 7, state, LIBERO_DELTA_MASK);
    expect(Array.from(a)).toEqual([1, 0, -1, -2, -3, -4, 1, 2, 1, 0, -1, -2, -3, -1]);
    absoluteActions(a, 7, state, LIBERO_DELTA_MASK);
    expect(Array.from(a)).toEqual([2, 2, 2, 2, 2, 2, 1, 3, 3, 3, 3, 3, 3, -1]);
  });
  it('z-score and quantile normalisation match the formulas, and unnormalise back', () => {
    const stats = { mean: [1, -1], std: [2, 0.5], q01: [0, -2], q99: [4, 0] };
    const x = Float32Array.from([3, -1, 1, 0]);
    const z = normalize(Float32Array.from(x), 2, stats);
    expect(z[0]).toBeCloseTo(2 / (2 + 1e-6), 6);
    expect(z[1]).toBeCloseTo(0, 6);
    expect(z[3]).toBeCloseTo(1 / (0.5 + 1e-6), 5);
    const q = normalize(Float32Array.from(x), 2, stats, 'quantile');
    expect(q[0]).toBeCloseTo((3 / (4 + 1e-6)) * 2 - 1, 6);
    expect(q[1]).toBeCloseTo((1 / (2 + 1e-6)) * 2 - 1, 6);
    for (const mode of ['zscore', 'quantile'] as const) {
      const back = unnormalize(normalize(Float32Array.from(x), 2, stats, mode), 2, stats, mode);
      for (let i = 0; i < 4; i++) expect(back[i]).toBeCloseTo(x[i]!, 5);
    }
    expect(() => normalize(Float32Array.from([1, 2, 3]), 3, stats)).toThrow(/2 dims but the data has 3/);
  });
  it('pads rows with zeros to the model action dim', () => {
    expect(Array.from(padToDim(Float32Array.from([1, 2, 3, 4]), 2, 4))).toEqual([1, 2, 0, 0, 3, 4, 0, 0]);
  });
});
