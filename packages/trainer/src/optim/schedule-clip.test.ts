import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { CosineDecaySchedule, OPENPI_COSINE_DEFAULTS, warmupCosine, warmupRsqrt } from './schedule.js';
import { clipGradNorm, globalGradNorm } from './clip.js';
import { NonFiniteGradNormError, OptimizerConfigError } from './errors.js';

beforeAll(async () => {
  await initBackend({ backend: process.env['VLA_BACKEND'] === 'webgpu' ? 'webgpu' : 'wasm' });
});

describe("openpi's CosineDecaySchedule (optax warmup_cosine_decay_schedule)", () => {
  const o = OPENPI_COSINE_DEFAULTS;
  it('starts at peak / (warmup + 1) and rises linearly to the peak', async () => {
    expect(o).toEqual({ warmupSteps: 1000, peakLr: 2.5e-5, decaySteps: 30000, decayLr: 2.5e-6 });
    expect(warmupCosine(0, o)).toBeCloseTo(2.5e-5 / 1001, 18);
    expect(warmupCosine(500, o)).toBeCloseTo(2.5e-5 / 1001 + (2.5e-5 - 2.5e-5 / 1001) * 0.5, 18);
    expect(warmupCosine(999, o)).toBeLessThan(2.5e-5);
    expect(warmupCosine(1000, o)).toBe(2.5e-5);
  });

  it('decays by a half cosine to decay_lr at decay_steps and stays there', async () => {
    // halfway through the decay span (29000 steps) the cosine term is 0.5
    expect(warmupCosine(1000 + 14500, o)).toBeCloseTo(2.5e-6 + (2.5e-5 - 2.5e-6) * 0.5, 18);
    expect(warmupCosine(30000, o)).toBeCloseTo(2.5e-6, 18);
    expect(warmupCosine(50000, o)).toBeCloseTo(2.5e-6, 18);
    const s = new CosineDecaySchedule();
    let prev = Infinity;
    for (let step = 1000; step <= 30000; step += 1000) {
      const lr = s.at(step);
      expect(lr).toBeLessThanOrEqual(prev);
      prev = lr;
    }
  });

  it('small configs and validation', async () => {
    const c = { warmupSteps: 2, peakLr: 0.05, decaySteps: 10, decayLr: 0.005 };
    expect([0, 1, 2].map((k) => warmupCosine(k, c))).toEqual([0.05 / 3, 0.05 / 3 + (0.05 - 0.05 / 3) / 2, 0.05]);
    expect(warmupCosine(0, { ...c, warmupSteps: 0 })).toBe(0.05);
    expect(() => warmupCosine(0, { ...c, decaySteps: 2 })).toThrow(OptimizerConfigError);
    expect(() => warmupCosine(-1, c)).toThrow(OptimizerConfigError);
    expect(() => new CosineDecaySchedule({ warmupSteps: 10, decaySteps: 5 })).toThrow(/decay_steps/);
  });

  it("openpi's RsqrtDecaySchedule", async () => {
    const r = { warmupSteps: 1000, peakLr: 5e-5, timescale: 10000 };
    expect(warmupRsqrt(0, r)).toBeCloseTo(5e-5 / 1001, 18);
    expect(warmupRsqrt(1000, r)).toBe(5e-5);
    expect(warmupRsqrt(1000 + 30000, r)).toBeCloseTo(5e-5 / 2, 18);
  });
});

describe('clipGradNorm (torch clip_grad_norm_, norm 2)', () => {
  it('total norm over all grads; scales by max_norm / (total + 1e-6) when above', async () => {
    const g = new Map<string, tf.Tensor>([
      ['a', tf.tensor1d([3, 0])],
      ['b', tf.tensor2d([[0, 4]])],
    ]);
    expect(await globalGradNorm(g)).toBe(5);
    const r = await clipGradNorm(g, 1);
    expect(r.totalNorm).toBe(5);
    expect(r.coef).toBeCloseTo(1 / (5 + 1e-6), 12);
    expect(Array.from(await r.grads.get('a')!.data())[0]).toBeCloseTo(3 / (5 + 1e-6), 6);
    expect(Array.from(await g.get('a')!.data())).toEqual([3, 0]); // inputs untouched
    const same = await clipGradNorm(g, 10);
    expect(same.coef).toBe(1);
    expect(same.grads.get('a')).toBe(g.get('a'));
  });

  it('zero and empty gradients, non-finite norms', async () => {
    expect((await clipGradNorm(new Map([['z', tf.zeros([3])]]), 1)).coef).toBe(1);
    expect((await clipGradNorm(new Map(), 1)).totalNorm).toBe(0);
    const bad = new Map<string, tf.Tensor>([['n', tf.tensor1d([NaN, 1])]]);
    expect(Number.isNaN((await clipGradNorm(bad, 1)).totalNorm)).toBe(true);
    await expect(clipGradNorm(bad, 1, { errorIfNonfinite: true })).rejects.toThrow(NonFiniteGradNormError);
    await expect(clipGradNorm(bad, 0)).rejects.toThrow(OptimizerConfigError);
  });
});
