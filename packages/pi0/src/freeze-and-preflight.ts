// Steps 3 and 4 of the recipe: freeze by policy, say what happened, check gradient flow on one batch.
import type * as tf from '@tensorflow/tfjs-core';
import {
  DisconnectedParametersError,
  applyFreezePolicy,
  freezeReport,
  preflightGradientFlow,
  type FreezePolicy,
  type FreezeReport,
  type PreflightReport,
} from '@vla-lora/freeze-policy';
import type { TrainLogger } from '@vla-lora/trainer';

export interface FreezeResult {
  /** The trainable parameters by name (what the optimizer and the loop get). */
  trainable: Map<string, tf.Variable>;
  report: FreezeReport;
}

/** Applies the policy to every named variable and logs the report (LoRA detected, frozen groups, PEFT line). */
export function freezeWithPolicy(
  all: Map<string, tf.Variable>,
  policy: FreezePolicy,
  logger: TrainLogger,
): FreezeResult {
  const plan = applyFreezePolicy(policy, all);
  const report = freezeReport(plan);
  for (const line of report.lines) logger.info(line);
  const trainable = new Map([...all].filter(([, v]) => v.trainable));
  return { trainable, report };
}

/**
 * Before step 0: the loss on one batch must reach every trainable parameter, except those that
 * `expectedDisconnected` explains (it returns the reason, e.g. pi0's unused last prefix layer). Throws
 * DisconnectedParametersError naming the parameters that get no gradient (a head not wired in,
 * a bypassed LoRA layer), NothingReachesLossError, NonFiniteGradientError.
 */
export async function preflight(
  all: Map<string, tf.Variable>,
  loss: () => tf.Scalar,
  logger: TrainLogger,
  opts: { expectedDisconnected?: (name: string) => string | null } = {},
): Promise<PreflightReport> {
  const r = await preflightGradientFlow({ params: all, loss, onDisconnected: 'report' });
  const why = new Map(r.disconnected.map((n) => [n, opts.expectedDisconnected?.(n) ?? null]));
  const unexpected = r.disconnected.filter((n) => why.get(n) === null);
  if (unexpected.length > 0) throw new DisconnectedParametersError(unexpected);
  const reasons = new Set([...why.values()].filter((w): w is string => w !== null));
  for (const reason of reasons) {
    const names = r.disconnected.filter((n) => why.get(n) === reason);
    logger.info(
      `preflight: ${names.length} trainable tensor(s) get no gradient by design: ${reason}; they keep their initial values, are saved with the adapter and are left out of the optimizer (${names.slice(0, 3).join(', ')}${names.length > 3 ? ', ...' : ''})`,
    );
  }
  for (const line of r.lines.filter((l) => !l.startsWith('INFO') && !l.startsWith('ERROR disconnected')))
    logger.info(line);
  const info = r.lines.filter((l) => l.startsWith('INFO')).length;
  if (info > 0)
    logger.info(
      `preflight: ${info} LoRA A matrices have a zero first gradient because their B starts at zero (PEFT init) — expected`,
    );
  return r;
}
