import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core registers no gradients by itself; in an app @vla-lora/tfjs-backend's initBackend() does this.
import '@tensorflow/tfjs-core/dist/register_all_gradients.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DisconnectedParametersError,
  GradientsNotRegisteredError,
  NonFiniteGradientError,
  NothingReachesLossError,
  NoTrainableParametersError,
  NothingTrainableError,
} from './errors.js';
import { FreezePolicy, freeze, train } from './policy.js';
import { LORA_RULES } from './presets.js';
import { preflightGradientFlow } from './preflight.js';
import { applyFreezePolicy } from './variables.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
  await tf.ready();
});

/**
 * A miniature pi0-like model: one LoRA-wrapped linear (PEFT names, PyTorch [out,in]) feeding a head.
 * y = x W^T + s · (x A^T) B^T ; loss = mean((head(y) - t)^2)
 */
function makeModel(opts: { bZero?: boolean } = {}) {
  const d = 6;
  const r = 2;
  const vars = new Map<string, tf.Variable>([
    ['model.layers.0.mlp.up_proj.base_layer.weight', tf.variable(tf.randomNormal([d, d], 0, 0.5, 'float32', 1))],
    [
      'model.layers.0.mlp.up_proj.lora_A.default.weight',
      tf.variable(tf.randomUniform([r, d], -0.5, 0.5, 'float32', 2)),
    ],
    [
      'model.layers.0.mlp.up_proj.lora_B.default.weight',
      tf.variable(opts.bZero === false ? tf.randomNormal([d, r], 0, 0.5, 'float32', 3) : tf.zeros([d, r])),
    ],
    ['action_out_proj.weight', tf.variable(tf.randomNormal([3, d], 0, 0.5, 'float32', 4))],
    ['action_out_proj.bias', tf.variable(tf.zeros([3]))],
    ['state_proj.weight', tf.variable(tf.randomNormal([d, 3], 0, 0.5, 'float32', 5))],
  ]);
  const v = (k: string): tf.Variable => {
    const x = vars.get(k);
    if (!x) throw new Error(k);
    return x;
  };
  const x = tf.randomNormal([4, d], 0, 1, 'float32', 6);
  const t = tf.randomNormal([4, 3], 0, 1, 'float32', 7);
  const lin = (inp: tf.Tensor, w: tf.Tensor): tf.Tensor2D =>
    tf.matMul(inp as tf.Tensor2D, w as tf.Tensor2D, false, true);
  const loraUp = (inp: tf.Tensor): tf.Tensor2D =>
    tf.add(
      lin(inp, v('model.layers.0.mlp.up_proj.base_layer.weight')),
      lin(
        lin(inp, v('model.layers.0.mlp.up_proj.lora_A.default.weight')),
        v('model.layers.0.mlp.up_proj.lora_B.default.weight'),
      ),
    );
  const head = (h: tf.Tensor): tf.Tensor2D => tf.add(lin(h, v('action_out_proj.weight')), v('action_out_proj.bias'));
  const mse = (y: tf.Tensor): tf.Scalar => tf.mean(tf.square(tf.sub(y, t)));
  const state = tf.randomNormal([4, 3], 0, 1, 'float32', 8);
  const statePath = (): tf.Tensor2D => lin(state, v('state_proj.weight')); // [4,3] -> [4,d]
  return {
    vars,
    /** everything wired */
    good: () => mse(head(tf.add(loraUp(x), statePath()))),
    /** the head state_proj never used */
    headDisconnected: () => mse(head(loraUp(x))),
    /** the forward calls the base weight directly: LoRA bypassed */
    loraBypassed: () => mse(head(tf.add(lin(x, v('model.layers.0.mlp.up_proj.base_layer.weight')), statePath()))),
    /** only frozen weights reach the loss */
    onlyFrozen: () => mse(tf.slice(lin(x, v('model.layers.0.mlp.up_proj.base_layer.weight')), [0, 0], [4, 3])),
    /** a NaN in the path */
    nan: () => mse(tf.mul(head(tf.add(loraUp(x), statePath()) as tf.Tensor2D), tf.scalar(Number.NaN))),
    /** state_proj connected but multiplied by zero */
    deadPath: () => mse(head(tf.add(loraUp(x), tf.mul(statePath(), 0)))),
    dispose: () => {
      for (const w of vars.values()) w.dispose();
      x.dispose();
      t.dispose();
      state.dispose();
    },
  };
}

async function withModel(
  fn: (m: ReturnType<typeof makeModel>) => void | Promise<void>,
  opts?: { bZero?: boolean },
): Promise<void> {
  const m = makeModel(opts);
  try {
    applyFreezePolicy(new FreezePolicy([...LORA_RULES, train('^action_out_proj'), train('^state_proj')]), m.vars);
    await fn(m);
  } finally {
    m.dispose();
  }
}

describe('applyFreezePolicy on tfjs variables', () => {
  it('sets trainable flags by path; base_layer stays frozen', () =>
    withModel((m) => {
      const flags = Object.fromEntries([...m.vars].map(([k, v]) => [k, v.trainable]));
      expect(flags).toEqual({
        'model.layers.0.mlp.up_proj.base_layer.weight': false,
        'model.layers.0.mlp.up_proj.lora_A.default.weight': true,
        'model.layers.0.mlp.up_proj.lora_B.default.weight': true,
        'action_out_proj.weight': true,
        'action_out_proj.bias': true,
        'state_proj.weight': true,
      });
    }));
});

describe('preflightGradientFlow', () => {
  it('a wired model passes; lora_A zero gradient with lora_B = 0 is info ("zero at init"), not an error', () =>
    withModel(async (m) => {
      const before = tf.memory().numTensors;
      const r = await preflightGradientFlow({ params: m.vars, loss: m.good });
      expect(tf.memory().numTensors).toBe(before);
      expect(r.disconnected).toEqual([]);
      expect(r.checked).toBe(5);
      expect(r.frozen).toBe(1);
      expect(r.zero).toEqual([
        expect.objectContaining({ name: 'model.layers.0.mlp.up_proj.lora_A.default.weight', expected: true }),
      ]);
      expect(r.connected.map((c) => c.name).sort()).toEqual(
        [
          'action_out_proj.bias',
          'action_out_proj.weight',
          'model.layers.0.mlp.up_proj.lora_B.default.weight',
          'state_proj.weight',
        ].sort(),
      );
      expect(r.connected.every((c) => c.norm > 0)).toBe(true);
      expect(r.lines.some((l) => l.startsWith('INFO') && l.includes('LoRA B = 0'))).toBe(true);
      expect(Number.isFinite(r.loss)).toBe(true);
    }));

  it('with a trained (non-zero) lora_B every trainable parameter has a gradient', () =>
    withModel(
      async (m) => {
        const r = await preflightGradientFlow({ params: m.vars, loss: m.good });
        expect(r.zero).toEqual([]);
        expect(r.connected.length).toBe(5);
      },
      { bZero: false },
    ));

  it('bug: a head not wired into the loss is named as disconnected', () =>
    withModel(async (m) => {
      await expect(preflightGradientFlow({ params: m.vars, loss: m.headDisconnected })).rejects.toThrow(
        DisconnectedParametersError,
      );
      try {
        await preflightGradientFlow({ params: m.vars, loss: m.headDisconnected });
      } catch (e) {
        expect((e as DisconnectedParametersError).parameters).toEqual(['state_proj.weight']);
        expect((e as Error).message).toContain('state_proj.weight');
      }
      const r = await preflightGradientFlow({ params: m.vars, loss: m.headDisconnected, onDisconnected: 'report' });
      expect(r.disconnected).toEqual(['state_proj.weight']);
      expect(r.lines[0]).toBe('ERROR disconnected from the loss (no gradient): state_proj.weight');
    }));

  it('bug: a LoRA layer bypassed by the forward pass — lora_A and lora_B are disconnected (not "zero at init")', () =>
    withModel(async (m) => {
      const r = await preflightGradientFlow({ params: m.vars, loss: m.loraBypassed, onDisconnected: 'report' });
      expect(r.disconnected).toEqual([
        'model.layers.0.mlp.up_proj.lora_A.default.weight',
        'model.layers.0.mlp.up_proj.lora_B.default.weight',
      ]);
      expect(r.zero).toEqual([]);
      await expect(preflightGradientFlow({ params: m.vars, loss: m.loraBypassed })).rejects.toThrow(
        /lora_A\.default\.weight, model\.layers\.0\.mlp\.up_proj\.lora_B/,
      );
    }));

  it('nothing trainable reaches the loss: a typed error naming the trainable parameters, no leaked tensors', () =>
    withModel(async (m) => {
      const before = tf.memory().numTensors;
      let err: unknown;
      try {
        await preflightGradientFlow({ params: m.vars, loss: m.onlyFrozen });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NothingReachesLossError);
      expect((err as NothingReachesLossError).parameters).toHaveLength(5);
      expect(tf.memory().numTensors).toBe(before);
    }));

  it('bug: everything frozen — the policy refuses, and the preflight refuses', () =>
    withModel(async (m) => {
      expect(() => applyFreezePolicy(new FreezePolicy([freeze('**')]), m.vars)).toThrow(NothingTrainableError);
      expect(m.vars.get('model.layers.0.mlp.up_proj.lora_A.default.weight')?.trainable).toBe(true); // unchanged when the plan throws
      applyFreezePolicy(new FreezePolicy([freeze('**')], { requireTrainable: false }), m.vars);
      await expect(preflightGradientFlow({ params: m.vars, loss: m.good })).rejects.toThrow(NoTrainableParametersError);
    }));

  it('warns about frozen LoRA tensors and a trainable base_layer (set by hand, bypassing the policy)', () =>
    withModel(async (m) => {
      const a = m.vars.get('model.layers.0.mlp.up_proj.lora_A.default.weight');
      const base = m.vars.get('model.layers.0.mlp.up_proj.base_layer.weight');
      if (!a || !base) throw new Error('missing variable');
      a.trainable = false;
      base.trainable = true;
      const r = await preflightGradientFlow({ params: m.vars, loss: m.good });
      expect(r.frozenLora).toEqual(['model.layers.0.mlp.up_proj.lora_A.default.weight']);
      expect(r.trainableBaseLayers).toEqual(['model.layers.0.mlp.up_proj.base_layer.weight']);
      expect(r.lines).toContain(
        'WARN LoRA tensor is frozen and will not learn: model.layers.0.mlp.up_proj.lora_A.default.weight',
      );
    }));

  it('connected but exactly zero (not explained by LoRA init) is a warning', () =>
    withModel(async (m) => {
      const r = await preflightGradientFlow({ params: m.vars, loss: m.deadPath });
      expect(r.zero).toContainEqual(expect.objectContaining({ name: 'state_proj.weight', expected: false }));
      expect(r.lines.some((l) => l.startsWith('WARN state_proj.weight'))).toBe(true);
    }));

  it('missing tfjs gradients are a typed error that says how to register them', () =>
    withModel(async (m) => {
      const mean = tf.getGradient('Mean');
      if (!mean) throw new Error('Mean gradient should be registered in this test file');
      tf.unregisterGradient('Mean');
      try {
        await expect(preflightGradientFlow({ params: m.vars, loss: m.good })).rejects.toThrow(
          GradientsNotRegisteredError,
        );
      } finally {
        tf.registerGradient(mean);
      }
      expect((await preflightGradientFlow({ params: m.vars, loss: m.good })).disconnected).toEqual([]);
    }));

  it('non-finite gradients fail loudly', () =>
    withModel(async (m) => {
      await expect(preflightGradientFlow({ params: m.vars, loss: m.nan })).rejects.toThrow(NonFiniteGradientError);
    }));
});
