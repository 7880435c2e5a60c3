import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { AdamW, type AdamWOptions } from './adamw.js';
import { OptimizerConfigError, OptimizerMismatchError, OptimizerStateError } from './errors.js';
import { lcgFloats as rand } from '@vla-lora/seeded-random/test-support';
import { maxAbsDiff } from '@vla-lora/vitest-config/compare';

beforeAll(async () => {
  await initBackend({ backend: process.env['VLA_BACKEND'] === 'webgpu' ? 'webgpu' : 'wasm' });
});

/** torch.optim.AdamW written out in float64, for arbitrary steps (the hand computation). */
function refAdamW(
  p0: Float32Array,
  gradsPerStep: Float32Array[],
  lrs: number[],
  o: AdamWOptions,
): { p: Float64Array; m: Float64Array; v: Float64Array } {
  const p = Float64Array.from(p0);
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  const [b1, b2] = o.betas;
  gradsPerStep.forEach((g, k) => {
    const t = k + 1;
    const lr = lrs[k]!;
    for (let i = 0; i < p.length; i++) {
      p[i] = p[i]! * (1 - lr * o.weightDecay);
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! * g[i]!;
      const denom = Math.sqrt(v[i]!) / Math.sqrt(1 - b2 ** t) + o.eps;
      p[i] = p[i]! - (lr / (1 - b1 ** t)) * (m[i]! / denom);
    }
  });
  return { p, m, v };
}

const OPTS: AdamWOptions = { lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.01 };

describe('AdamW (torch.optim.AdamW semantics)', () => {
  it('one step by hand: decay first, then the bias-corrected update', async () => {
    const p = tf.variable(tf.tensor1d([1, -2]));
    const opt = new AdamW(new Map([['w', p]]), { lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01 });
    opt.step(new Map([['w', tf.tensor1d([0.5, 0.25])]]));
    // p = p(1 - 0.001); m = 0.1 g; v = 0.001 g^2; m_hat = g; sqrt(v_hat) = |g|; p -= 0.1 * sign(g) * |g|/(|g| + 1e-8)
    const want = [1 * 0.999 - (0.1 * 0.5) / (0.5 + 1e-8), -2 * 0.999 - (0.1 * 0.25) / (0.25 + 1e-8)];
    expect(maxAbsDiff(await p.data(), want)).toBeLessThan(1e-7);
    const st = (await opt.exportState()).params.get('w')!;
    expect(st.step).toBe(1);
    expect(maxAbsDiff(st.expAvg, [0.05, 0.025])).toBeLessThan(1e-8);
    expect(maxAbsDiff(st.expAvgSq, [0.00025, 0.0000625])).toBeLessThan(1e-10);
  });

  it('matches the float64 reference to 1e-6 over 20 steps with a changing lr', async () => {
    const shapes: Record<string, number[]> = { a: [16, 8], b: [8], c: [3, 4, 5] };
    const params = new Map<string, tf.Variable>();
    const init: Record<string, Float32Array> = {};
    let seed = 1;
    for (const [n, s] of Object.entries(shapes)) {
      init[n] = rand(
        s.reduce((x, y) => x * y, 1),
        seed++,
        0.5,
      );
      params.set(n, tf.variable(tf.tensor(init[n]!, s)));
    }
    const opt = new AdamW(params, OPTS);
    const steps = 20;
    const lrs = Array.from({ length: steps }, (_, k) => 1e-3 * (1 + Math.sin(k)));
    const gs: Record<string, Float32Array[]> = { a: [], b: [], c: [] };
    for (let k = 0; k < steps; k++) {
      const grads = new Map<string, tf.Tensor>();
      for (const [n, s] of Object.entries(shapes)) {
        const g = rand(init[n]!.length, 100 + 7 * k + seed++, k % 3 === 0 ? 1e-4 : 2); // tiny and large grads
        gs[n]!.push(g);
        grads.set(n, tf.tensor(g, s));
      }
      opt.step(grads, lrs[k]);
      tf.dispose([...grads.values()]);
    }
    for (const n of Object.keys(shapes)) {
      const ref = refAdamW(init[n]!, gs[n]!, lrs, OPTS);
      expect(maxAbsDiff(await params.get(n)!.data(), ref.p)).toBeLessThan(1e-6);
      const st = (await opt.exportState()).params.get(n)!;
      expect(st.step).toBe(steps);
      expect(maxAbsDiff(st.expAvg, ref.m)).toBeLessThan(1e-6);
    }
  });

  it('state is keyed by name and round-trips through plain Float32Arrays: resume == uninterrupted', async () => {
    const mk = (): Map<string, tf.Variable> =>
      new Map([
        ['layer.lora_A.weight', tf.variable(tf.tensor(rand(12, 3), [3, 4]))],
        ['layer.lora_B.weight', tf.variable(tf.tensor(rand(6, 4), [2, 3]))],
      ]);
    const grads = (k: number): Map<string, tf.Tensor> =>
      new Map([
        ['layer.lora_A.weight', tf.tensor(rand(12, 50 + k), [3, 4])],
        ['layer.lora_B.weight', tf.tensor(rand(6, 80 + k), [2, 3])],
      ]);
    const full = mk();
    const o1 = new AdamW(full, OPTS);
    for (let k = 0; k < 6; k++) o1.step(grads(k));

    const a = mk();
    const o2 = new AdamW(a, OPTS);
    for (let k = 0; k < 3; k++) o2.step(grads(k));
    const saved = await o2.exportState();
    const savedParams = new Map<string, Float32Array>();
    for (const [n, v] of a) savedParams.set(n, Float32Array.from(await v.data()));
    // a fresh process: new variables (different tfjs ids), same names, state loaded from plain data
    const b = mk();
    for (const [n, v] of b) v.assign(tf.tensor(savedParams.get(n)!, v.shape));
    const o3 = new AdamW(b, OPTS);
    o3.load(saved);
    for (let k = 3; k < 6; k++) o3.step(grads(k));
    for (const [n, v] of full) expect(Array.from(await b.get(n)!.data())).toEqual(Array.from(await v.data()));
    expect((await o3.exportState()).params.get('layer.lora_A.weight')!.step).toBe(6);
  });

  it('the live state() view loads into another optimiser (tensors copied)', async () => {
    const p = tf.variable(tf.tensor1d([1, 2, 3]));
    const o = new AdamW(new Map([['p', p]]), OPTS);
    o.step(new Map([['p', tf.tensor1d([1, 1, 1])]]));
    const q = tf.variable(tf.tensor1d([1, 2, 3]));
    const o2 = new AdamW(new Map([['p', q]]), OPTS);
    o2.load(o.state());
    o.step(new Map([['p', tf.tensor1d([1, 1, 1])]])); // o's old state tensors are disposed here; o2 must not care
    expect((await o2.exportState()).params.get('p')!.step).toBe(1);
  });

  it('refuses unknown names, wrong shapes and incomplete states, naming them', async () => {
    const p = tf.variable(tf.zeros([2, 2]));
    const o = new AdamW(new Map([['w', p]]), OPTS);
    expect(() => o.step(new Map([['x', tf.zeros([2, 2])]]))).toThrow(OptimizerMismatchError);
    expect(() => o.step(new Map([['w', tf.zeros([4])]]))).toThrow(/shape \[4\]/);
    expect(() => o.load({ params: new Map() })).toThrow(/missing 'w'/);
    expect(() =>
      o.load({
        params: new Map([
          ['v', { step: 1, shape: [2, 2], expAvg: new Float32Array(4), expAvgSq: new Float32Array(4) }],
        ]),
      }),
    ).toThrow(OptimizerStateError);
    expect(() =>
      o.load({
        params: new Map([['w', { step: 1, shape: [4], expAvg: new Float32Array(4), expAvgSq: new Float32Array(4) }]]),
      }),
    ).toThrow(/state shape/);
    expect(() =>
      o.load({
        params: new Map([
          ['w', { step: 1.5, shape: [2, 2], expAvg: new Float32Array(4), expAvgSq: new Float32Array(4) }],
        ]),
      }),
    ).toThrow(/step/);
    expect(() => new AdamW(new Map(), { betas: [0.9, 1] })).toThrow(OptimizerConfigError);
    expect(() => o.step(new Map(), -1)).toThrow(OptimizerConfigError);
  });

  it('skips parameters without a gradient (torch: p.grad is None), including weight decay', async () => {
    const a = tf.variable(tf.ones([2]));
    const b = tf.variable(tf.ones([2]));
    const o = new AdamW(
      new Map([
        ['a', a],
        ['b', b],
      ]),
      OPTS,
    );
    o.step(new Map([['a', tf.ones([2])]]));
    expect(Array.from(await b.data())).toEqual([1, 1]);
    expect((await o.exportState()).params.has('b')).toBe(false);
  });

  it('noWeightDecay gives a parameter group with weight_decay 0', async () => {
    const a = tf.variable(tf.ones([1]));
    const o = new AdamW(new Map([['norm.weight', a]]), {
      ...OPTS,
      lr: 0.1,
      weightDecay: 0.5,
      noWeightDecay: (n) => n.startsWith('norm'),
    });
    o.step(new Map([['norm.weight', tf.zeros([1])]])); // zero grad: only decay could move it
    expect((await a.data())[0]).toBe(1);
  });

  it('does not grow the tensor count per step', async () => {
    const p = tf.variable(tf.ones([8, 8]));
    const o = new AdamW(new Map([['p', p]]), OPTS);
    const g = tf.ones([8, 8]);
    o.step(new Map([['p', g]]));
    const n0 = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) o.step(new Map([['p', g]]));
    expect(tf.memory().numTensors).toBe(n0);
    o.dispose();
    expect(tf.memory().numTensors).toBe(n0 - 2);
  });
});
