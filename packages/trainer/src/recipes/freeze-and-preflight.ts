// Steps 3 and 4 of the recipe: freeze by policy, say what happened, check gradient flow on one batch.
import type * as tf from '@tensorflow/tfjs-core';
import {
  applyFreezePolicy,
  freezeReport,
  preflightGradientFlow,
  type FreezePolicy,
  type FreezeReport,
  type PreflightReport,
} from '@vla-lora/freeze-policy';
import type { TrainLogger } from '../log/index.js';

export interface FreezeResult {
  /** The trainable parameters by name (what the optimizer and the loop get). */
  trainable: Map<string, tf.Variable>;
  report: FreezeReport;
}

/** Applies the policy to every named variable and logs the report (LoRA detected, frozen groups, PEFT line). */
export function freezeWithPolicy(all: Map<string, tf.Variable>, policy: FreezePolicy, logger: TrainLogger): FreezeResult {
  const plan = applyFreezePolicy(policy, all);
  const report = freezeReport(plan);
  for (const line of report.lines) logger.info(line);
  const trainable = new Map([...all].filter(([, v]) => v.trainable));
  return { trainable, report };
}

/**
 * Before step 0: the loss on one batch must reach every trainable parameter. Throws
 * DisconnectedParametersError naming the parameters that get no gradient (a head not wired in,
 * a bypassed LoRA layer), NothingReachesLossError, NonFiniteGradientError.
 */
export function preflight(all: Map<string, tf.Variable>, loss: () => tf.Scalar, logger: TrainLogger): PreflightReport {
  const r = preflightGradientFlow({ params: all, loss });
  for (const line of r.lines.filter((l) => !l.startsWith('INFO'))) logger.info(line);
  const info = r.lines.filter((l) => l.startsWith('INFO')).length;
  if (info > 0) logger.info(`preflight: ${info} LoRA A matrices have a zero first gradient because their B starts at zero (PEFT init) — expected`);
  return r;
}
