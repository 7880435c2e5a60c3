import { describe, expect, it } from 'vitest';
import { SamplerCursorError } from './errors.js';
import { BatchSampler, parseSamplerCursor } from './sampler.js';

describe('BatchSampler', () => {
  it('each epoch is a permutation; dropLast skips the remainder; epochs differ', () => {
    const s = new BatchSampler({ size: 10, batchSize: 3, seed: 1 });
    expect(s.batchesPerEpoch).toBe(3);
    const e0 = [s.next(), s.next(), s.next()].flat();
    expect(new Set(e0).size).toBe(9);
    const e1 = s.next();
    expect(s.epoch).toBe(1);
    expect(e1).toHaveLength(3);
    const keep = new BatchSampler({ size: 10, batchSize: 3, seed: 1, dropLast: false });
    const all = [keep.next(), keep.next(), keep.next(), keep.next()];
    expect(all[3]).toHaveLength(1);
    expect(all.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(keep.next()).toHaveLength(3);
    expect(keep.epoch).toBe(1);
  });

  it('same seed → same order; different seed → different order', () => {
    const a = new BatchSampler({ size: 50, batchSize: 5, seed: 42 });
    const b = new BatchSampler({ size: 50, batchSize: 5, seed: 42 });
    const c = new BatchSampler({ size: 50, batchSize: 5, seed: 43 });
    const ra = Array.from({ length: 25 }, () => a.next());
    expect(Array.from({ length: 25 }, () => b.next())).toEqual(ra);
    expect(Array.from({ length: 25 }, () => c.next())).not.toEqual(ra);
  });

  it('N straight batches = k batches, JSON cursor, restore, N-k batches (across epoch boundaries)', () => {
    for (const k of [0, 1, 3, 4, 7]) {
      const straight = new BatchSampler({ size: 11, batchSize: 4, seed: 5 });
      const expected = Array.from({ length: 10 }, () => straight.next());
      const first = new BatchSampler({ size: 11, batchSize: 4, seed: 5 });
      const got = Array.from({ length: k }, () => first.next());
      const saved = JSON.parse(JSON.stringify(first.cursor())) as unknown;
      const resumed = new BatchSampler({ size: 11, batchSize: 4, seed: 5, cursor: parseSamplerCursor(saved) });
      got.push(...Array.from({ length: 10 - k }, () => resumed.next()));
      expect(got).toEqual(expected);
    }
  });

  it('refuses a cursor made for another dataset size, seed or batch size', () => {
    const s = new BatchSampler({ size: 20, batchSize: 4, seed: 1 });
    s.next();
    const c = s.cursor();
    expect(() => new BatchSampler({ size: 21, batchSize: 4, seed: 1, cursor: c })).toThrow(SamplerCursorError);
    expect(() => new BatchSampler({ size: 20, batchSize: 4, seed: 2, cursor: c })).toThrow(/seed 1 ≠ 2/);
    expect(() => new BatchSampler({ size: 20, batchSize: 5, seed: 1, cursor: c })).toThrow(/batch size/);
    expect(() => parseSamplerCursor({ epoch: 'x' })).toThrow(SamplerCursorError);
    expect(() => new BatchSampler({ size: 3, batchSize: 4, seed: 1 })).toThrow(/no batch would ever be drawn/);
  });
});
