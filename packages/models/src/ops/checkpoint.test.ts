import * as tf from '@tensorflow/tfjs-core';
import { getPi0Config, type Pi0Config, pi0MemoryBill, pi0ParamSpecs, SIGLIP_TINY } from '@vla-lora/gemma-config';
import { injectLora, namedParameters } from '@vla-lora/lora-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { pi0LoraConfig } from '../pi0/lora.js';
import { Pi0Policy } from '../pi0/policy.js';
import { tinyBatch } from '../../test-support/test-batch.js';
import { SeededRandom } from '../rng/random-source.js';
import { maxAbsDiff, setupBackend } from '../test-support.js';
import { leanVariableGrads } from './backprop.js';
import { checkpointed } from './checkpoint.js';

interface StepResult {
  loss: number;
  grads: Map<string, Float32Array>;
  /** Tensor bytes alive between forward and backward, above what was alive before (tfjs's accounting). */
  keptBytes: number;
  /** Peak tensor bytes of the step, above what was alive before it. */
  peakBytes: number;
}

/** One loss + backward of `policy`, measured with tfjs's own tensor accounting. */
async function step(
  policy: Pi0Policy,
  batch: ReturnType<typeof tinyBatch>,
  opts: { lean: boolean; checkpointing: boolean },
): Promise<StepResult> {
  policy.setGradientCheckpointing(opts.checkpointing);
  const vars = namedParameters(policy).filter(([, v]) => v.trainable);
  const start = tf.memory().numBytes;
  let kept = 0;
  let loss = Number.NaN;
  const grads = new Map<string, Float32Array>();
  const prof = await tf.profile(() => {
    const f = () => {
      const l = tf.mean(policy.computeLoss(batch, new SeededRandom(11))) as tf.Scalar;
      kept = tf.memory().numBytes - start;
      return l;
    };
    const vg = opts.lean ? leanVariableGrads : tf.variableGrads;
    const { value, grads: g } = vg(
      f,
      vars.map(([, v]) => v),
    );
    for (const [n, v] of vars) if (g[v.name]) grads.set(n, g[v.name]!.dataSync() as Float32Array);
    loss = value.dataSync()[0]!;
    value.dispose();
    Object.values(g).forEach((t) => t.dispose());
  });
  policy.setGradientCheckpointing(false);
  return { loss, grads, keptBytes: kept, peakBytes: prof.peakBytes - start };
}

function expectSameGradients(a: StepResult, b: StepResult, tol: number): void {
  expect(Math.abs(a.loss - b.loss)).toBeLessThanOrEqual(tol);
  expect([...a.grads.keys()].sort()).toEqual([...b.grads.keys()].sort());
  let worst = 0;
  for (const [n, g] of b.grads) worst = Math.max(worst, maxAbsDiff(a.grads.get(n)!, g));
  expect(worst).toBeLessThanOrEqual(tol);
}

describe('activation checkpointing and the freeing backward pass', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  it('a checkpointed block gives the plain block its gradients (inputs and variables), constants get none', () => {
    const w = tf.variable(tf.tensor2d([0.5, -1, 2, 0.25], [2, 2]), true, 'ckpt-w');
    const x = tf.tensor2d([1, 2, -3, 4], [2, 2]);
    const c = tf.tensor2d([0.1, 0.2, 0.3, 0.4], [2, 2]);
    const block = ([h]: tf.Tensor[], [k]: tf.Tensor[]) => [tf.tanh(tf.add(tf.matMul(h!, w), k!)), tf.square(h!)];
    const loss = (outs: tf.Tensor[]) => tf.add(tf.sum(tf.mul(outs[0]!, 3)), tf.sum(outs[1]!)) as tf.Scalar;
    const plain = tf.grads((h: tf.Tensor) => loss(block([h], [c])))([x]);
    const ckpt = tf.grads((h: tf.Tensor) => loss(checkpointed(block, [h], [c], [w])))([x]);
    expect(maxAbsDiff(ckpt[0]!.dataSync(), plain[0]!.dataSync())).toBeLessThan(1e-6);
    const gPlain = tf.variableGrads(() => loss(block([x], [c])), [w]).grads['ckpt-w']!;
    const gCkpt = tf.variableGrads(() => loss(checkpointed(block, [x], [c], [w])), [w]).grads['ckpt-w']!;
    const gLean = leanVariableGrads(() => loss(checkpointed(block, [x], [c], [w])), [w]).grads['ckpt-w']!;
    expect(maxAbsDiff(gCkpt.dataSync(), gPlain.dataSync())).toBeLessThan(1e-6);
    expect(maxAbsDiff(gLean.dataSync(), gPlain.dataSync())).toBeLessThan(1e-6);
    expect(Math.max(...gPlain.dataSync())).toBeGreaterThan(0);
    w.dispose();
  });

  it('tiny pi0, everything trainable: loss and every gradient equal the plain path to 1e-6', async () => {
    const cfg = getPi0Config('pi0_tiny_lora');
    const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(3) });
    injectLora(policy, { ...pi0LoraConfig(cfg), initLoraWeights: 'gaussian', seed: 5 });
    // SigLIP and norms too, so that every checkpointed path carries gradients.
    for (const [, v] of namedParameters(policy)) v.trainable = true;
    const batch = tinyBatch(cfg, 4, 7);
    const plain = await step(policy, batch, { lean: false, checkpointing: false });
    expect(plain.grads.size).toBeGreaterThan(100);
    expectSameGradients(await step(policy, batch, { lean: false, checkpointing: true }), plain, 1e-6);
    expectSameGradients(await step(policy, batch, { lean: true, checkpointing: false }), plain, 1e-6);
    expectSameGradients(await step(policy, batch, { lean: true, checkpointing: true }), plain, 1e-6);
  });

  it('8-layer SigLIP, LoRA: checkpointing keeps the layer inputs only; with the freeing backward the peak drops too', async () => {
    const cfg: Pi0Config = getPi0Config('pi0_tiny_lora', { siglip: { ...SIGLIP_TINY, numLayers: 8 } });
    const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(3) });
    injectLora(policy, { ...pi0LoraConfig(cfg), initLoraWeights: 'gaussian', seed: 5 });
    const batch = tinyBatch(cfg, 16, 7);
    const plain = await step(policy, batch, { lean: false, checkpointing: false });
    const lean = await step(policy, batch, { lean: true, checkpointing: true });
    expectSameGradients(lean, plain, 1e-6);
    const bill = pi0MemoryBill(cfg, {
      specs: pi0ParamSpecs(cfg),
      trainable: () => false,
      batchSize: 16,
      gradientCheckpointing: true,
    });
    const billed = bill.rows.find((r) => r.item === 'activations')!.bytesPerDevice;
    console.log(
      `batch 16: kept between forward and backward ${plain.keptBytes} -> ${lean.keptBytes} B (bill: ${billed} B of layer inputs); peak ${plain.peakBytes} -> ${lean.peakBytes} B`,
    );
    expect(lean.keptBytes).toBeLessThan(plain.keptBytes / 4);
    expect(lean.peakBytes).toBeLessThan(plain.peakBytes / 3);
    // tfjs counts a buffer once per view of it (reshapes) and its saves copy (wasm Identity), so what it
    // reports is an upper bound; the billed layer inputs are what must stay, a lower bound.
    expect(lean.keptBytes).toBeGreaterThan(billed);
  });

  it('leaves no tensors behind', async () => {
    const cfg = getPi0Config('pi0_tiny_lora');
    const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(6) });
    injectLora(policy, pi0LoraConfig(cfg));
    const batch = tinyBatch(cfg, 2, 1);
    for (const lean of [false, true]) {
      await step(policy, batch, { lean, checkpointing: true });
      const before = tf.memory().numTensors;
      await step(policy, batch, { lean, checkpointing: true });
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});
