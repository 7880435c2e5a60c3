import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { countParams, getPi0Config, pi0ParamSpecs, pi0Variants } from '@vla-lora/gemma-config';
import { injectLora, namedParameters } from '@vla-lora/lora-core';
import { checkAgainstSpecs } from '../params/check-specs.js';
import { SeededRandom } from '../rng/random-source.js';
import { maxAbsDiff, setupBackend } from '../test-support.js';
import { pi0LoraConfig } from './lora.js';
import { Pi0Policy } from './policy.js';
import { tinyBatch } from '../../test-support/test-batch.js';

describe('Pi0Policy (tiny config, openpi PyTorch layout)', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  it('is built from pi0ParamSpecs: exactly the declared names and shapes', () => {
    const cfg = getPi0Config('pi0_tiny');
    const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(1) });
    checkAgainstSpecs(policy, pi0ParamSpecs(cfg));
    const names = policy.namedParameters().map(([n]) => n);
    expect(names).toContain('paligemma_with_expert.paligemma.model.language_model.layers.0.self_attn.q_proj.weight');
    const depth = pi0Variants(cfg).expert.depth;
    expect(names).toContain(`paligemma_with_expert.gemma_expert.model.layers.${depth - 1}.mlp.down_proj.weight`);
    expect(names).toContain(
      'paligemma_with_expert.paligemma.model.vision_tower.vision_model.embeddings.patch_embedding.weight',
    );
    expect(names).toContain('action_time_mlp_out.bias');
    expect(names.some((n) => n.includes('gemma_expert.model.embed_tokens'))).toBe(false);
  });

  it('takes LoRA on q/k/v/o/gate/up/down of both Gemma stacks (not SigLIP), matching the LoRA specs', () => {
    const cfg = getPi0Config('pi0_tiny_lora');
    const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(2) });
    const report = injectLora(policy, pi0LoraConfig(cfg));
    expect(report.count).toBe(2 * pi0Variants(cfg).paligemma.depth * 7);
    expect(report.wrapped.some((w) => w.name.includes('vision_tower'))).toBe(false);
    const specs = pi0ParamSpecs(cfg);
    checkAgainstSpecs(policy, specs);
    const counts = countParams(specs);
    expect(report.trainableParameters).toBe(counts.loraParams);
    expect(report.totalParameters).toBe(counts.total);
  });

  it('computeLoss returns the per-element loss and gradients reach LoRA and the heads', () => {
    const cfg = getPi0Config('pi0_tiny_lora');
    const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(3) });
    injectLora(policy, { ...pi0LoraConfig(cfg), initLoraWeights: 'gaussian', seed: 5 });
    for (const [n, v] of namedParameters(policy)) if (/^(action_|state_proj)/.test(n)) v.trainable = true;
    const batch = tinyBatch(cfg, 4, 7);
    const loss = policy.computeLoss(batch, new SeededRandom(11));
    expect(loss.shape).toEqual([4, cfg.actionHorizon, cfg.actionDim]);
    expect(Number.isFinite(tf.mean(loss).dataSync()[0]!)).toBe(true);
    loss.dispose();
    const trainable = namedParameters(policy).filter(([, v]) => v.trainable);
    const { value, grads } = tf.variableGrads(
      () => tf.mean(policy.computeLoss(batch, new SeededRandom(11))) as tf.Scalar,
      trainable.map(([, v]) => v),
    );
    value.dispose();
    const missing = trainable.filter(([, v]) => grads[v.name] === undefined).map(([n]) => n);
    // Only the PaliGemma last layer's o_proj and MLP (whose output pi0 never reads) get no gradient, as in torch.
    const last = `paligemma_with_expert.paligemma.model.language_model.layers.${pi0Variants(cfg).paligemma.depth - 1}.`;
    expect(missing.every((n) => n.startsWith(last) && !/self_attn\.(q|k|v)_proj/.test(n))).toBe(true);
    expect(missing.length).toBe(4 * 2);
    for (const head of [
      'action_in_proj.weight',
      'action_out_proj.weight',
      'state_proj.weight',
      'action_time_mlp_in.weight',
      'action_time_mlp_out.weight',
    ]) {
      const v = trainable.find(([n]) => n === head)![1];
      expect(tf.max(tf.abs(grads[v.name]!)).dataSync()[0]!).toBeGreaterThan(0);
    }
    Object.values(grads).forEach((g) => g.dispose());
  });

  it('the KV-cached suffix pass gives the same velocity as the joint forward', () => {
    const cfg = getPi0Config('pi0_tiny');
    const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(4) });
    const batch = tinyBatch(cfg, 3, 9);
    const noise = tf.randomNormal([3, cfg.actionHorizon, cfg.actionDim], 0, 1, 'float32', 3);
    // One Euler step through the cache: x1 = noise + dt * v(noise, 1).
    const stepped = policy.sampleActions(batch, new SeededRandom(0), { numSteps: 1, noise });
    const v = policy.velocity(batch, noise, [1, 1, 1]);
    const viaJoint = tf.add(noise, tf.mul(v, -1));
    const d = maxAbsDiff(stepped.dataSync(), viaJoint.dataSync());
    expect(d).toBeLessThan(1e-4);
  });

  it('a training step and a sampling call leave no tensors behind', () => {
    const cfg = getPi0Config('pi0_tiny_lora');
    const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(6) });
    injectLora(policy, pi0LoraConfig(cfg));
    const batch = tinyBatch(cfg, 2, 1);
    const vars = namedParameters(policy)
      .filter(([, v]) => v.trainable)
      .map(([, v]) => v);
    const step = (): void => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(policy.computeLoss(batch, new SeededRandom(1))) as tf.Scalar,
        vars,
      );
      value.dispose();
      Object.values(grads).forEach((g) => g.dispose());
      policy.sampleActions(batch, new SeededRandom(2), { numSteps: 2 }).dispose();
    };
    step();
    const before = tf.memory().numTensors;
    step();
    expect(tf.memory().numTensors).toBe(before);
  });
});
