import * as tf from '@tensorflow/tfjs-core';
import { DisconnectedParametersError, pi0LoraPolicy } from '@vla-lora/freeze-policy';
import { initBackend } from '@vla-lora/tfjs-backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@vla-lora/trainer';
import { freezeWithPolicy, preflight } from './freeze-and-preflight.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

function toyPi0(headConnected: boolean) {
  const v = (name: string, shape: number[]) =>
    [name, tf.variable(tf.randomNormal(shape, 0, 0.1, 'float32', 3), true, `${name}-${Math.random()}`)] as const;
  const all = new Map<string, tf.Variable>([
    v('paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.base_layer.weight', [4, 4]),
    v('paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.lora_A.default.weight', [2, 4]),
    v('paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.lora_B.default.weight', [4, 2]),
    v('action_in_proj.weight', [4, 3]),
    v('action_out_proj.weight', [3, 4]),
    v('state_proj.weight', [4, 3]),
    v('action_time_mlp_in.weight', [4, 4]),
    v('action_time_mlp_out.weight', [4, 4]),
  ]);
  const g = (n: string) => all.get(n) as tf.Variable;
  const x = tf.ones([5, 3]);
  const loss = () =>
    tf.tidy(() => {
      const t = tf.matMul(
        tf.matMul(tf.matMul(x, g('state_proj.weight'), false, true), g('action_time_mlp_in.weight'), false, true),
        g('action_time_mlp_out.weight'),
        false,
        true,
      );
      const h0 = tf.add(tf.matMul(x, g('action_in_proj.weight'), false, true), t);
      const base = tf.matMul(
        h0,
        g('paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.base_layer.weight'),
        false,
        true,
      );
      const lora = tf.matMul(
        tf.matMul(
          h0,
          g('paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.lora_A.default.weight'),
          false,
          true,
        ),
        g('paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.lora_B.default.weight'),
        false,
        true,
      );
      const h = tf.add(base, lora);
      // a "disconnected head": the output projection is computed but never reaches the loss
      const out = headConnected ? tf.matMul(h, g('action_out_proj.weight'), false, true) : h;
      return tf.mean(tf.square(out)) as tf.Scalar;
    });
  return { all, loss };
}

describe('freeze + preflight', () => {
  it('freezes the base weight, trains LoRA + heads, and passes when everything is connected', async () => {
    const { all, loss } = toyPi0(true);
    const lines: string[] = [];
    const logger = { ...createLogger({ mode: 'silent' }), info: (m: string) => lines.push(m) };
    const f = freezeWithPolicy(all, pi0LoraPolicy(), logger);
    expect([...f.trainable.keys()].sort()).toEqual([
      'action_in_proj.weight',
      'action_out_proj.weight',
      'action_time_mlp_in.weight',
      'action_time_mlp_out.weight',
      'paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.lora_A.default.weight',
      'paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.lora_B.default.weight',
      'state_proj.weight',
    ]);
    expect(all.get('paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.base_layer.weight')?.trainable).toBe(
      false,
    );
    expect(lines.join('\n')).toMatch(/trainable params: 84 \|\| all params: 100/);
    const r = await preflight(all, loss, logger);
    expect(r.disconnected).toEqual([]);
  });
  it('stops a run whose head is disconnected, naming it', async () => {
    const { all, loss } = toyPi0(false);
    const logger = createLogger({ mode: 'silent' });
    freezeWithPolicy(all, pi0LoraPolicy(), logger);
    let err: unknown;
    try {
      await preflight(all, loss, logger);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(DisconnectedParametersError);
    expect((err as Error).message).toContain('action_out_proj.weight');
  });
});
