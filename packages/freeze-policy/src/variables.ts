import type { Variable } from '@tensorflow/tfjs-core';
import type { FreezePlan, FreezePolicy } from './policy.js';

export type NamedVariables = Iterable<readonly [string, Variable]> | ReadonlyMap<string, Variable>;

function entriesOf(vars: NamedVariables): Array<readonly [string, Variable]> {
  return vars instanceof Map ? [...vars.entries()] : [...(vars as Iterable<readonly [string, Variable]>)];
}

/**
 * Apply a policy to tfjs variables keyed by their PyTorch paths: sets each variable's `trainable`
 * flag (what tf.variableGrads and optimizers honour) and returns the plan (same checks as `plan`).
 * Nothing is changed when the plan throws.
 */
export function applyFreezePolicy(policy: FreezePolicy, vars: NamedVariables): FreezePlan {
  const list = entriesOf(vars);
  const plan = policy.plan(list.map(([path, v]) => ({ path, shape: v.shape })));
  plan.entries.forEach((e, i) => {
    const v = (list[i] as readonly [string, Variable])[1];
    v.trainable = e.trainable;
  });
  return plan;
}
