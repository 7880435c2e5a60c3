// The loop's optimizer: src/optim's AdamW (torch semantics, keyed by parameter name) plus the
// conversion of its state to checkpoint-io's plain records and back.
import type * as tf from '@tensorflow/tfjs-core';
import type { F32Tensor, OptimizerCheckpoint } from '@vla-lora/checkpoint-io';
import { AdamW, type AdamWOptions, type AdamWParamStateData } from './optim/index.js';
import type { LoopOptimizer } from './loop/index.js';

export function createLoopOptimizer(
  params: Map<string, tf.Variable>,
  opts: AdamWOptions,
): LoopOptimizer & { adamw: AdamW } {
  const adam = new AdamW(params, opts);
  return {
    adamw: adam,
    step: (grads, lr) => adam.step(grads, lr),
    async exportState(lr?: number): Promise<OptimizerCheckpoint> {
      const s = await adam.exportState();
      const expAvg = new Map<string, F32Tensor>();
      const expAvgSq = new Map<string, F32Tensor>();
      const steps = new Map<string, number>();
      for (const [name, st] of s.params) {
        expAvg.set(name, { shape: st.shape, data: st.expAvg });
        expAvgSq.set(name, { shape: st.shape, data: st.expAvgSq });
        steps.set(name, st.step);
      }
      return {
        expAvg,
        expAvgSq,
        steps,
        // lr: the rate in effect (torch's param_group["lr"] after scheduler.step()); initial_lr: the configured peak.
        hyper: {
          lr: lr ?? opts.lr,
          initial_lr: opts.lr,
          betas: [...opts.betas],
          eps: opts.eps,
          weight_decay: opts.weightDecay,
        },
      };
    },
    importState(c: OptimizerCheckpoint): void {
      const params = new Map<string, AdamWParamStateData>();
      for (const [name, m] of c.expAvg) {
        params.set(name, {
          step: c.steps.get(name) as number,
          shape: m.shape,
          expAvg: m.data,
          expAvgSq: (c.expAvgSq.get(name) as F32Tensor).data,
        });
      }
      adam.load({ params });
    },
  };
}
