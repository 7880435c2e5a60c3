import * as tf from '@tensorflow/tfjs-core';
import {
  DisconnectedParametersError,
  FreezePolicyError,
  GradientsNotRegisteredError,
  NonFiniteGradientError,
  NothingReachesLossError,
  NoTrainableParametersError,
} from './errors.js';
import type { NamedVariables } from './variables.js';

export interface ParamGradient {
  name: string;
  /** L2 norm of the gradient. */
  norm: number;
  maxAbs: number;
}

export interface ZeroGradient {
  name: string;
  /** True when explained by LoRA's init (lora_A whose sibling lora_B is all zeros). */
  expected: boolean;
  note: string;
}

export interface PreflightReport {
  loss: number;
  /** Trainable parameters checked. */
  checked: number;
  /** Frozen parameters skipped. */
  frozen: number;
  connected: ParamGradient[];
  /** Connected, but the first gradient is exactly zero. */
  zero: ZeroGradient[];
  /** Trainable, no gradient path from the loss. */
  disconnected: string[];
  nonFinite: string[];
  /** LoRA tensors (lora_A / lora_B) that are frozen: LoRA that cannot learn (RoboVLMs' "does not require grad"). */
  frozenLora: string[];
  /** LoRA base weights (base_layer) that are trainable: almost always a mistake. */
  trainableBaseLayers: string[];
  /** Lines for the log: errors first, then warnings, then info. */
  lines: string[];
}

export interface PreflightOptions {
  /** Named variables (PyTorch paths); `trainable` flags decide what is checked. */
  params: NamedVariables;
  /** The training loss on one batch, built from the variables. Must return a scalar. */
  loss: () => tf.Scalar;
  /** `throw` (default): DisconnectedParametersError when any trainable parameter gets no gradient; `report`: list them only. */
  onDisconnected?: 'throw' | 'report';
}

/** The sibling lora_B path of a lora_A path (PEFT naming), or null. */
function loraBOf(name: string): string | null {
  const parts = name.split('.');
  const i = parts.lastIndexOf('lora_A');
  if (i < 0) return null;
  parts[i] = 'lora_B';
  return parts.join('.');
}

/**
 * Run before step 0, on one batch: computes the gradient of `loss` for every trainable variable
 * and classifies each as connected, zero-at-init (connected with an exactly-zero gradient), or
 * disconnected (no gradient path: a head not wired in, a bypassed LoRA layer).
 *
 * Throws NoTrainableParametersError (everything frozen), NothingReachesLossError (the loss
 * depends on no trainable parameter), DisconnectedParametersError (some get no gradient; see
 * `onDisconnected`), NonFiniteGradientError (NaN/Inf). A zero gradient of lora_A while its lora_B
 * is all zeros is PEFT's init and reported as info, not an error.
 *
 * Needs tfjs-core's gradients registered (tfjs-core registers none by itself):
 * `@vla-lora/tfjs-backend`'s initBackend() / registerAllGradients() do it.
 *
 * tf.variableGrads returns no entry for a variable the loss does not reach (and throws only when
 * it reaches none); tf.grads would throw on the first unreachable input, so variableGrads on the
 * whole trainable list is what tells the cases apart per variable in one backward pass.
 */
export async function preflightGradientFlow(opts: PreflightOptions): Promise<PreflightReport> {
  const all =
    opts.params instanceof Map
      ? [...opts.params.entries()]
      : [...(opts.params as Iterable<readonly [string, tf.Variable]>)];
  const trainable = all.filter(([, v]) => v.trainable);
  if (trainable.length === 0) throw new NoTrainableParametersError(all.length);
  const pathOf = new Map<string, string>(trainable.map(([p, v]) => [v.name, p]));
  const byPath = new Map<string, tf.Variable>(all.map(([p, v]) => [p, v]));

  let result: { value: tf.Scalar; grads: Record<string, tf.Tensor> };
  try {
    result = tf.tidy(() =>
      tf.variableGrads(
        opts.loss,
        trainable.map(([, v]) => v),
      ),
    );
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (msg.includes('Cannot find a connection between any variable')) {
      throw new NothingReachesLossError(
        trainable.map(([p]) => p),
        { cause: e },
      );
    }
    if (msg.includes('gradient function not found')) {
      throw new GradientsNotRegisteredError(msg, { cause: e });
    }
    throw new FreezePolicyError(`Preflight: computing gradients of the loss failed: ${msg}`, { cause: e });
  }

  try {
    const loss = (await result.value.data())[0] as number;
    const connected: ParamGradient[] = [];
    const zero: ZeroGradient[] = [];
    const nonFinite: string[] = [];
    const got = new Set<string>();
    for (const [vname, g] of Object.entries(result.grads)) {
      const path = pathOf.get(vname);
      if (path === undefined) continue;
      got.add(path);
      const stats = tf.tidy(() => tf.stack([tf.max(tf.abs(g)), tf.sum(tf.square(g))]));
      const st = await stats.data();
      const maxAbs = st[0] as number;
      const sumSq = st[1] as number;
      stats.dispose();
      if (!Number.isFinite(maxAbs) || !Number.isFinite(sumSq)) {
        nonFinite.push(path);
        continue;
      }
      if (maxAbs === 0) {
        const b = loraBOf(path);
        const bVar = b ? byPath.get(b) : undefined;
        let bZero = false;
        if (bVar) {
          const bMax = tf.tidy(() => tf.max(tf.abs(bVar)));
          bZero = (await bMax.data())[0] === 0;
          bMax.dispose();
        }
        zero.push(
          bZero
            ? {
                name: path,
                expected: true,
                note: `zero gradient at init: ${b} is all zeros (LoRA B = 0), so A's first gradient is exactly zero — expected`,
              }
            : {
                name: path,
                expected: false,
                note: 'connected to the loss but its gradient is exactly zero on this batch (dead path, saturated activation, or zero input?)',
              },
        );
      } else connected.push({ name: path, norm: Math.sqrt(sumSq), maxAbs });
    }
    const disconnected = trainable.map(([p]) => p).filter((p) => !got.has(p));
    const segs = (p: string): string[] => p.split('.');
    const frozenLora = all
      .filter(([p, v]) => !v.trainable && segs(p).some((x) => x === 'lora_A' || x === 'lora_B'))
      .map(([p]) => p);
    const trainableBaseLayers = trainable.filter(([p]) => segs(p).includes('base_layer')).map(([p]) => p);
    const lines = [
      ...disconnected.map((p) => `ERROR disconnected from the loss (no gradient): ${p}`),
      ...nonFinite.map((p) => `ERROR non-finite gradient: ${p}`),
      ...zero.filter((z) => !z.expected).map((z) => `WARN ${z.name}: ${z.note}`),
      ...frozenLora.map((p) => `WARN LoRA tensor is frozen and will not learn: ${p}`),
      ...trainableBaseLayers.map((p) => `WARN LoRA base weight is trainable (base_layer should stay frozen): ${p}`),
      ...zero.filter((z) => z.expected).map((z) => `INFO ${z.name}: ${z.note}`),
      `preflight: loss ${loss}, ${trainable.length} trainable checked (${connected.length} with gradient, ${zero.length} zero, ${disconnected.length} disconnected), ${all.length - trainable.length} frozen skipped`,
    ];
    const report: PreflightReport = {
      loss,
      checked: trainable.length,
      frozen: all.length - trainable.length,
      connected,
      zero,
      disconnected,
      nonFinite,
      frozenLora,
      trainableBaseLayers,
      lines,
    };
    if (nonFinite.length > 0) throw new NonFiniteGradientError(nonFinite);
    if (disconnected.length > 0 && (opts.onDisconnected ?? 'throw') === 'throw')
      throw new DisconnectedParametersError(disconnected);
    return report;
  } finally {
    result.value.dispose();
    for (const g of Object.values(result.grads)) g.dispose();
  }
}
