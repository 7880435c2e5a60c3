import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeRobotDataset } from './dataset.js';
import { NormStatsError } from './errors.js';
import { generateLiberoDataset } from './generator.js';
import { LiberoView } from './libero.js';
import { RunningStats, computeNormStats, loadNormStats, parseNormStats, writeNormStats } from './norm-stats.js';
import { Rng } from './rng.js';
import { tempDir } from '../test-support/helpers.js';

function exact(values: number[]): { mean: number; std: number; sorted: number[] } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return { mean, std, sorted: [...values].sort((a, b) => a - b) };
}

describe('RunningStats (openpi algorithm)', () => {
  // Re-binning moves each old bin's count to the new bin holding its left edge, so every range change
  // may shift mass by up to one bin: the bound below is (re-binnings + 1) bins.
  it('mean/std exact and q01/q99 within (re-binnings + 1) histogram bins of the order statistics as the range grows', () => {
    const rng = new Rng(9);
    const dim = 3;
    const all: number[][] = [[], [], []];
    const rs = new RunningStats();
    for (let b = 0; b < 20; b++) {
      const batch = new Float32Array(50 * dim);
      for (let r = 0; r < 50; r++) {
        // widening range forces re-binning; dim 2 is skewed
        batch[r * dim] = rng.normal() * (1 + b / 5);
        batch[r * dim + 1] = rng.uniform() * 10 - 5 + b;
        batch[r * dim + 2] = Math.exp(rng.normal());
      }
      for (let i = 0; i < batch.length; i++) all[i % dim]!.push(batch[i]!);
      rs.update(batch, dim);
    }
    const s = rs.statistics();
    for (let d = 0; d < dim; d++) {
      const e = exact(all[d]!);
      expect(s.mean[d]).toBeCloseTo(e.mean, 9);
      expect(s.std[d]).toBeCloseTo(e.std, 9);
      const width = ((e.sorted[e.sorted.length - 1]! - e.sorted[0]!) / 5000) * 21;
      const n = e.sorted.length;
      expect(Math.abs(s.q01[d]! - e.sorted[Math.ceil(0.01 * n) - 1]!)).toBeLessThanOrEqual(width);
      expect(Math.abs(s.q99[d]! - e.sorted[Math.ceil(0.99 * n) - 1]!)).toBeLessThanOrEqual(width);
    }
  });
  it('needs at least two vectors and a consistent length', () => {
    const rs = new RunningStats();
    rs.update([1, 2], 2);
    expect(() => rs.statistics()).toThrow(NormStatsError);
    expect(() => rs.update([1, 2, 3], 3)).toThrow(/does not match/);
  });
});

let tmp: Awaited<ReturnType<typeof tempDir>>;
let ds: LeRobotDataset;
beforeAll(async () => {
  tmp = await tempDir('norm');
  await generateLiberoDataset(join(tmp.dir, 'd'), { episodes: 4, heldOut: 1, steps: 12, imageSize: 8, seed: 2 });
  ds = await LeRobotDataset.open(join(tmp.dir, 'd'), { episodes: 'train' });
});
afterAll(() => tmp.cleanup());

describe('computeNormStats', () => {
  it('equals the statistics of the states and of every action-chunk entry (openpi compute_norm_stats)', () => {
    for (const deltaActions of [false, true]) {
      const stats = computeNormStats(ds, { actionHorizon: 10, deltaActions });
      const view = new LiberoView(ds, { actionHorizon: 10, deltaActions });
      const st: number[][] = Array.from({ length: 8 }, () => []);
      const ac: number[][] = Array.from({ length: 7 }, () => []);
      for (let p = 0; p < ds.length; p++) {
        const raw = view.rawChunk(p);
        raw.state.forEach((v, d) => st[d]!.push(v));
        raw.actions.forEach((v, i) => ac[i % 7]!.push(v));
      }
      expect(ac[0]).toHaveLength(ds.length * 10);
      st.forEach((vals, d) => {
        expect(stats.state.mean[d]).toBeCloseTo(exact(vals).mean, 9);
        expect(stats.state.std[d]).toBeCloseTo(exact(vals).std, 9);
      });
      ac.forEach((vals, d) => {
        expect(stats.actions.mean[d]).toBeCloseTo(exact(vals).mean, 9);
        expect(stats.actions.std[d]).toBeCloseTo(exact(vals).std, 9);
        expect(stats.actions.q01[d]).toBeLessThanOrEqual(stats.actions.q99[d]!);
      });
    }
    const plain = computeNormStats(ds, { actionHorizon: 10 });
    const delta = computeNormStats(ds, { actionHorizon: 10, deltaActions: true });
    expect(delta.actions.mean[0]).not.toBeCloseTo(plain.actions.mean[0]!, 3);
    expect(delta.actions.mean[6]).toBeCloseTo(plain.actions.mean[6]!, 12); // gripper stays absolute
  });

  it("writes openpi's norm_stats.json atomically and reads it back", async () => {
    const stats = computeNormStats(ds, { actionHorizon: 10 });
    const dir = join(tmp.dir, 'assets');
    const path = await writeNormStats(dir, stats);
    expect(path).toBe(join(dir, 'norm_stats.json'));
    const json = JSON.parse(await readFile(path, 'utf8')) as { norm_stats: Record<string, Record<string, number[]>> };
    expect(Object.keys(json)).toEqual(['norm_stats']);
    expect(Object.keys(json.norm_stats)).toEqual(['state', 'actions']);
    expect(Object.keys(json.norm_stats['state']!)).toEqual(['mean', 'std', 'q01', 'q99']);
    expect(json.norm_stats['actions']!['mean']).toHaveLength(7);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    const back = await loadNormStats(dir);
    expect(back.state.mean).toEqual(stats.state.mean);
    expect(back.actions.q99).toEqual(stats.actions.q99);
    // normalised with these stats, the training states have mean ≈ 0 and std ≈ 1
    const view = new LiberoView(ds, { actionHorizon: 10, normStats: back });
    let sum = 0;
    let sq = 0;
    for (let p = 0; p < ds.length; p++) {
      const x = (await view.sample(p)).state[0]!;
      sum += x;
      sq += x * x;
    }
    expect(sum / ds.length).toBeCloseTo(0, 4);
    expect(Math.sqrt(sq / ds.length)).toBeCloseTo(1, 3);
  });

  it('rejects malformed norm_stats.json with NormStatsError', async () => {
    expect(() => parseNormStats('{')).toThrow(NormStatsError);
    expect(() => parseNormStats('{"norm_stats": {"state": {"mean": [1], "std": [1]}}}')).toThrow(/norm_stats\.actions/);
    expect(() =>
      parseNormStats('{"norm_stats": {"state": {"mean": [1, 2], "std": [1]}, "actions": {"mean": [1], "std": [1]}}}'),
    ).toThrow(/differ in length/);
    const p = join(tmp.dir, 'bad.json');
    await writeFile(p, '{"norm_stats": {"state": {"mean": ["x"], "std": [1]}, "actions": {"mean": [1], "std": [1]}}}');
    await expect(loadNormStats(p)).rejects.toThrow(/finite numbers/);
    await expect(loadNormStats(join(tmp.dir, 'nowhere'))).rejects.toThrow(/does not exist/);
    const stats = { state: { mean: [0], std: [1] }, actions: { mean: [0], std: [1] } };
    expect(() => new LiberoView(ds, { normStats: stats })).toThrow(/recompute them/);
  });
});
