import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../test/backend.js';
import { Linear, type LinearLike } from './linear.js';
import { LoraLinear, initLoraWeights } from './lora-linear.js';
import { namedParameters, setTraining } from './module.js';
import { MergeError } from './errors.js';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors } from '@vla-lora/checkpoint-io';
import { lcgFloats as rand } from '@vla-lora/seeded-random/test-support';
import { maxAbsDiff } from '@vla-lora/vitest-config/compare';
import { torchOracle } from '@vla-lora/vitest-config/oracle';

beforeAll(async () => {
  await useBackend('wasm');
});

function stats(a: ArrayLike<number>): { mean: number; std: number; maxAbs: number } {
  let s = 0;
  let s2 = 0;
  let mx = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! * a[i]!;
    mx = Math.max(mx, Math.abs(a[i]!));
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), maxAbs: mx };
}

/** A LoraLinear with known, non-zero A and B. */
function makeLayer(
  inF: number,
  outF: number,
  r: number,
  alpha: number,
  opts: { bias?: boolean; rslora?: boolean } = {},
): LoraLinear {
  const base = Linear.fromPytorch(rand(outF * inF, 11), [outF, inF], opts.bias ? rand(outF, 12) : undefined);
  const l = new LoraLinear(base, { r, alpha, useRslora: opts.rslora ?? false });
  l.loraA.assign(tf.tensor(rand(r * inF, 13), [r, inF]));
  l.loraB.assign(tf.tensor(rand(outF * r, 14), [outF, r]));
  return l;
}

/** Reference forward in float64: y = x W^T + b + s * (x A^T) B^T. */
function refForward(x: Float32Array, n: number, l: LoraLinear): Float64Array {
  const [inF, outF, r] = [l.inFeatures, l.outFeatures, l.r];
  const W = l.weight.dataSync();
  const b = l.bias?.dataSync();
  const A = l.loraA.dataSync();
  const B = l.loraB.dataSync();
  const y = new Float64Array(n * outF);
  for (let i = 0; i < n; i++) {
    const h = new Float64Array(r);
    for (let k = 0; k < r; k++) for (let j = 0; j < inF; j++) h[k]! += x[i * inF + j]! * A[k * inF + j]!;
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o]! : 0;
      for (let j = 0; j < inF; j++) s += x[i * inF + j]! * W[o * inF + j]!;
      let d = 0;
      for (let k = 0; k < r; k++) d += h[k]! * B[o * r + k]!;
      y[i * outF + o] = s + l.scaling * d;
    }
  }
  return y;
}

describe('LoraLinear', () => {
  it('has PEFT parameter names and shapes, base frozen, A/B trainable', () => {
    const l = makeLayer(6, 5, 3, 6, { bias: true });
    expect(namedParameters(l).map(([n, v]) => [n, v.shape, v.trainable])).toEqual([
      ['base_layer.weight', [5, 6], false],
      ['base_layer.bias', [5], false],
      ['lora_A.default.weight', [3, 6], true],
      ['lora_B.default.weight', [5, 3], true],
    ]);
    expect(l.scaling).toBe(2);
    expect(makeLayer(6, 5, 4, 8, { rslora: true }).scaling).toBe(4); // alpha / sqrt(r)
  });

  it('forward equals x W^T + b + (alpha/r) (x A^T) B^T over leading dims', () => {
    const l = makeLayer(7, 5, 2, 4, { bias: true });
    const x = rand(3 * 4 * 7, 21);
    const y = l.apply(tf.tensor(x, [3, 4, 7]));
    expect(y.shape).toEqual([3, 4, 5]);
    expect(maxAbsDiff(y.dataSync(), refForward(x, 12, l))).toBeLessThan(1e-5);
  });

  it('gradients (x, A, B) equal tfjs autodiff of the naive formula; the frozen base gets none', () => {
    const l = makeLayer(9, 6, 3, 5, { bias: true });
    const x = tf.tensor(rand(2 * 5 * 9, 31), [2, 5, 9]);
    const cot = tf.tensor(rand(2 * 5 * 6, 32), [2, 5, 6]);
    const s = l.scaling;
    const naive = (xx: tf.Tensor, a: tf.Tensor, b: tf.Tensor): tf.Tensor => {
      const x2 = tf.reshape(xx, [-1, 9]) as tf.Tensor2D;
      const base = tf.add(tf.matMul(x2, l.weight as tf.Tensor2D, false, true), l.bias!);
      const d = tf.mul(tf.matMul(tf.matMul(x2, a as tf.Tensor2D, false, true), b as tf.Tensor2D, false, true), s);
      return tf.sum(tf.mul(tf.reshape(tf.add(base, d), [2, 5, 6]), cot));
    };
    const ours = (xx: tf.Tensor, _a: tf.Tensor, _b: tf.Tensor): tf.Tensor => tf.sum(tf.mul(l.apply(xx), cot));
    const g2 = tf.grads(naive)([x, l.loraA, l.loraB]);
    // ours: gradients w.r.t. the variables go through customGrad inputs; use variableGrads for A/B and grads for x
    const gx = tf.grad((xx: tf.Tensor) => ours(xx, l.loraA, l.loraB))(x);
    const { grads } = tf.variableGrads(() => ours(x, l.loraA, l.loraB) as tf.Scalar);
    expect(Object.keys(grads).sort()).toEqual([l.loraA.name, l.loraB.name].sort());
    expect(maxAbsDiff(gx.dataSync(), g2[0]!.dataSync())).toBeLessThan(1e-4);
    expect(maxAbsDiff(grads[l.loraA.name]!.dataSync(), g2[1]!.dataSync())).toBeLessThan(1e-4);
    expect(maxAbsDiff(grads[l.loraB.name]!.dataSync(), g2[2]!.dataSync())).toBeLessThan(1e-4);
  });

  it('an explicitly unfrozen base gets dW and db from the fused op, equal to autodiff', () => {
    const l = makeLayer(7, 5, 2, 3, { bias: true });
    l.baseLayer.setTrainable(true);
    const x = tf.tensor(rand(3 * 7, 51), [3, 7]);
    const cot = tf.tensor(rand(3 * 5, 52), [3, 5]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(l.apply(x), cot)) as tf.Scalar);
    expect(Object.keys(grads)).toHaveLength(4);
    const naive = tf.grads((w: tf.Tensor, b: tf.Tensor, a: tf.Tensor, bb: tf.Tensor) => {
      const y = tf.add(
        tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D, false, true), b),
        tf.mul(
          tf.matMul(tf.matMul(x as tf.Tensor2D, a as tf.Tensor2D, false, true), bb as tf.Tensor2D, false, true),
          l.scaling,
        ),
      );
      return tf.sum(tf.mul(y, cot));
    })([l.weight, l.bias!, l.loraA, l.loraB]);
    [l.weight, l.bias!, l.loraA, l.loraB].forEach((v, i) =>
      expect(maxAbsDiff(grads[v.name]!.dataSync(), naive[i]!.dataSync())).toBeLessThan(1e-4),
    );
  });

  it('B = 0 at PEFT init: output equals the base layer and dA is exactly zero', () => {
    const base = Linear.fromPytorch(rand(20, 1), [4, 5]);
    const l = new LoraLinear(base, { r: 2, alpha: 4, seed: 3 });
    const x = tf.tensor(rand(15, 2), [3, 5]);
    expect(maxAbsDiff(l.apply(x).dataSync(), base.apply(x).dataSync())).toBe(0);
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(l.apply(x))) as tf.Scalar);
    expect(stats(grads[l.loraA.name]!.dataSync()).maxAbs).toBe(0);
    expect(stats(grads[l.loraB.name]!.dataSync()).maxAbs).toBeGreaterThan(0);
  });

  it('answers every question a Linear does, so Linear code works unchanged', () => {
    const describeLayer = (
      m: LinearLike,
      x: tf.Tensor,
    ): { io: [number, number]; shape: number[]; biasShape: number[] | null; out: number[] } => ({
      io: [m.inFeatures, m.outFeatures],
      shape: m.weight.shape,
      biasShape: m.bias?.shape ?? null,
      out: m.apply(x).shape,
    });
    const lin = Linear.fromPytorch(rand(12, 1), [3, 4], rand(3, 2));
    const x = tf.ones([2, 7, 4]);
    const before = describeLayer(lin, x);
    const l = new LoraLinear(lin, { r: 2, alpha: 2 });
    expect(describeLayer(l, x)).toEqual(before);
    // effective weight = W + s B A, and applying it as a plain Linear reproduces the LoRA forward
    l.loraB.assign(tf.tensor(rand(6, 5), [3, 2]));
    const eff = l.effectiveWeight();
    const plain = Linear.fromPytorch(eff.dataSync() as Float32Array, [3, 4], lin.bias!.dataSync() as Float32Array);
    expect(maxAbsDiff(plain.apply(x).dataSync(), l.apply(x).dataSync())).toBeLessThan(1e-5);
  });

  it('merge folds the delta into the base weight without double counting; unmerge restores it', async () => {
    const l = makeLayer(8, 6, 4, 8, { bias: true });
    const x = tf.tensor(rand(5 * 8, 41), [5, 8]);
    const w0 = Float32Array.from(l.weight.dataSync());
    const y0 = Float32Array.from(l.apply(x).dataSync());
    await l.merge({ safe: true });
    expect(l.merged).toBe(true);
    expect(maxAbsDiff(l.apply(x).dataSync(), y0)).toBeLessThan(1e-5);
    expect(maxAbsDiff(l.effectiveWeight().dataSync(), l.weight.dataSync())).toBe(0);
    await expect(l.merge()).rejects.toThrow(MergeError);
    l.unmerge();
    expect(l.merged).toBe(false);
    expect(maxAbsDiff(l.weight.dataSync(), w0)).toBeLessThan(1e-6);
    expect(maxAbsDiff(l.apply(x).dataSync(), y0)).toBeLessThan(1e-5);
    expect(() => l.unmerge()).toThrow(MergeError);
    expect(l.weight.trainable).toBe(false); // still frozen after merge/unmerge
  });

  it('safe merge refuses NaN and leaves the weight untouched', async () => {
    const l = makeLayer(4, 3, 2, 2);
    const w0 = Float32Array.from(l.weight.dataSync());
    l.loraB.assign(tf.fill([3, 2], NaN));
    await expect(l.merge({ safe: true })).rejects.toThrow(/NaN/);
    expect(l.merged).toBe(false);
    expect(maxAbsDiff(l.weight.dataSync(), w0)).toBe(0);
  });

  it('dropout acts on the LoRA input in training only, seeded and fresh per call', () => {
    const base = Linear.fromPytorch(rand(16 * 8, 1), [8, 16]);
    const mk = (): LoraLinear => {
      const l = new LoraLinear(Linear.fromPytorch(base.weight.dataSync() as Float32Array, [8, 16]), {
        r: 4,
        alpha: 4,
        dropout: 0.5,
        seed: 7,
      });
      l.loraB.assign(tf.tensor(rand(32, 9), [8, 4]));
      return l;
    };
    const l = mk();
    const x = tf.tensor(rand(10 * 16, 3), [10, 16]);
    const evalOut = Float32Array.from(l.apply(x).dataSync());
    expect(maxAbsDiff(evalOut, refForward(x.dataSync() as Float32Array, 10, l))).toBeLessThan(1e-5);
    setTraining(l, true);
    const t1 = Float32Array.from(l.apply(x).dataSync());
    const t2 = Float32Array.from(l.apply(x).dataSync());
    expect(maxAbsDiff(t1, evalOut)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(t1, t2)).toBeGreaterThan(1e-3); // a new mask each call
    const l2 = mk();
    setTraining(l2, true);
    expect(maxAbsDiff(l2.apply(x).dataSync(), t1)).toBe(0); // same seed, same sequence of masks
    const l3 = mk();
    setTraining(l3, true);
    l3.dropoutCalls = 1; // resumed at the second mask
    expect(maxAbsDiff(l3.apply(x).dataSync(), t2)).toBe(0);
    // the base path is untouched by dropout: with B = 0 training output equals eval output
    l2.loraB.assign(tf.zeros([8, 4]));
    expect(maxAbsDiff(l2.apply(x).dataSync(), base.apply(x).dataSync())).toBeLessThan(1e-6);
  });

  it('init options follow PEFT and openpi', () => {
    const [inF, outF, r] = [256, 128, 16];
    const def = initLoraWeights(inF, outF, r, true, 1);
    expect(stats(def.a).maxAbs).toBeLessThanOrEqual(1 / Math.sqrt(inF));
    expect(stats(def.a).std).toBeCloseTo(1 / Math.sqrt(inF) / Math.sqrt(3), 3); // U(±b) has std b/sqrt(3)
    expect(stats(def.b).maxAbs).toBe(0);
    const g = initLoraWeights(inF, outF, r, 'gaussian', 1);
    expect(stats(g.a).std).toBeCloseTo(1 / r, 2);
    expect(stats(g.b).maxAbs).toBe(0);
    const o = initLoraWeights(inF, outF, r, 'openpi', 1);
    expect(stats(o.a).std).toBeCloseTo(0.01, 3);
    expect(stats(o.b).std).toBeCloseTo(0.01, 3);
    const f = initLoraWeights(inF, outF, r, false, 1);
    expect(stats(f.b).maxAbs).toBeGreaterThan(0);
    expect(stats(f.b).maxAbs).toBeLessThanOrEqual(1 / Math.sqrt(r));
    expect(initLoraWeights(inF, outF, r, 'openpi', 1).a).toEqual(o.a); // seeded = reproducible
  });

  it('does not leak tensors across training steps', () => {
    const l = makeLayer(16, 8, 4, 4, { bias: true });
    setTraining(l, true);
    const x = tf.ones([2, 3, 16]);
    const step = (): void => {
      const { value, grads } = tf.variableGrads(() => tf.sum(l.apply(x)) as tf.Scalar);
      value.dispose();
      tf.dispose(grads);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(before);
  });
});

// ---- PEFT numerics on the real fixture tensors, with torch (Debian 1.13) running PEFT's formulas ----
// PEFT lora.Linear.forward: result = base_layer(x) + lora_B(lora_A(dropout(x))) * scaling;
// get_delta_weight: (B @ A) * scaling. The tensors are PEFT's trained adapter and the base q_proj/down_proj.
const PY = '/usr/bin/python3';
const probe = spawnSync(PY, ['-c', "import importlib.util as u, sys; sys.exit(0 if u.find_spec('torch') else 1)"], {
  encoding: 'utf8',
  timeout: 60_000,
}); // finds torch without importing it (seconds);
const noTorch = probe.status !== 0;
if (noTorch)
  console.warn(
    `[lora-linear] torch oracle SKIPPED: ${PY} finds no torch module (apt python3-torch): ${(probe.stderr || String(probe.error ?? '')).trim().split('\n').pop()}`,
  );
const FIX = fileURLToPath(new URL('../../../fixtures/peft-tiny-gemma/', import.meta.url));

const PEFT_SCRIPT = String.raw`
import json, sys, torch
import torch.nn.functional as F
out = []
for c in json.load(sys.stdin):
    W = torch.tensor(c["W"]).reshape(c["out"], c["in"])
    A = torch.tensor(c["A"]).reshape(c["r"], c["in"]).requires_grad_(True)
    B = torch.tensor(c["B"]).reshape(c["out"], c["r"]).requires_grad_(True)
    x = torch.tensor(c["x"]).reshape(-1, c["in"]).requires_grad_(True)
    cot = torch.tensor(c["cot"]).reshape(-1, c["out"])
    y = F.linear(x, W) + F.linear(F.linear(x, A), B) * c["scaling"]
    (y * cot).sum().backward()
    merged = W + (B.detach() @ A.detach()) * c["scaling"]
    out.append({k: v.detach().reshape(-1).tolist() for k, v in dict(y=y, dx=x.grad, dA=A.grad, dB=B.grad, merged=merged).items()})
json.dump(out, sys.stdout)
`;

describe.skipIf(noTorch)('LoraLinear vs PEFT formulas in torch, on the PEFT fixture tensors', () => {
  it('forward, dx, dA, dB and the merged weight agree (alpha/r and rsLoRA)', async () => {
    const base = await openSafetensors(join(FIX, 'base/model.safetensors'));
    const cases: Array<{ layer: LoraLinear; x: Float32Array; cot: Float32Array; req: Record<string, unknown> }> = [];
    try {
      for (const [dir, mod, scaling] of [
        ['adapter', 'model.layers.0.self_attn.q_proj', 2],
        ['adapter', 'model.layers.1.mlp.down_proj', 2],
        ['rslora', 'model.layers.1.self_attn.v_proj', 4],
      ] as const) {
        const ad = await openSafetensors(join(FIX, dir, 'adapter_model.safetensors'));
        const [wInfo, A, B, W] = [
          base.info(`${mod}.weight`),
          await ad.readFloat32(`base_model.model.${mod}.lora_A.weight`),
          await ad.readFloat32(`base_model.model.${mod}.lora_B.weight`),
          await base.readFloat32(`${mod}.weight`),
        ];
        await ad.close();
        const [outF, inF] = wInfo.shape as [number, number];
        const r = A.length / inF;
        const layer = new LoraLinear(Linear.fromPytorch(W, [outF, inF]), {
          r,
          alpha: dir === 'rslora' ? 8 : 16,
          useRslora: dir === 'rslora',
        });
        expect(layer.scaling).toBe(scaling);
        layer.loraA.assign(tf.tensor(A, [r, inF]));
        layer.loraB.assign(tf.tensor(B, [outF, r]));
        const x = rand(2 * 12 * inF, 70 + cases.length);
        const cot = rand(2 * 12 * outF, 90 + cases.length);
        cases.push({
          layer,
          x,
          cot,
          req: {
            W: Array.from(W),
            A: Array.from(A),
            B: Array.from(B),
            x: Array.from(x),
            cot: Array.from(cot),
            in: inF,
            out: outF,
            r,
            scaling,
          },
        });
      }
    } finally {
      await base.close();
    }
    const want = torchOracle<Array<Record<'y' | 'dx' | 'dA' | 'dB' | 'merged', number[]>>>(
      PEFT_SCRIPT,
      cases.map((c) => c.req),
    );
    for (const [i, { layer, x, cot }] of cases.entries()) {
      const inF = layer.inFeatures;
      const xt = tf.tensor(x, [2, 12, inF]);
      const ct = tf.tensor(cot, [2, 12, layer.outFeatures]);
      const f = (): tf.Scalar => tf.sum(tf.mul(layer.apply(xt), ct)) as tf.Scalar;
      const { grads } = tf.variableGrads(f);
      const dx = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx), ct)))(xt);
      const w = want[i]!;
      expect(maxAbsDiff(layer.apply(xt).dataSync(), w.y)).toBeLessThan(1e-5);
      expect(maxAbsDiff(dx.dataSync(), w.dx)).toBeLessThan(1e-5);
      expect(maxAbsDiff(grads[layer.loraA.name]!.dataSync(), w.dA)).toBeLessThan(1e-4);
      expect(maxAbsDiff(grads[layer.loraB.name]!.dataSync(), w.dB)).toBeLessThan(1e-4);
      expect(maxAbsDiff(layer.effectiveWeight().dataSync(), w.merged)).toBeLessThan(1e-6);
      await layer.merge();
      expect(maxAbsDiff(layer.weight.dataSync(), w.merged)).toBeLessThan(1e-6);
      expect(maxAbsDiff(layer.apply(xt).dataSync(), w.y)).toBeLessThan(1e-5);
    }
  });
});
