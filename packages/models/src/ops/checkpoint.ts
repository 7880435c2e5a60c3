// Activation checkpointing (PyTorch's torch.utils.checkpoint, openpi's nn.remat): a block runs its
// forward without keeping intermediates for backward; backward recomputes the block from its saved
// inputs and back-propagates through the recomputation. Memory: only each block's inputs stay alive
// between forward and backward, plus one block's activations while it is back-propagated.
import * as tf from '@tensorflow/tfjs-core';
import { type Module, namedModules, namedParameters } from '@vla-lora/lora-core';
import { leanGradients } from './backprop.js';

/** A module whose dropout masks are drawn from a seeded sequence (`LoraLinear`). */
interface DropoutCounter {
  dropoutCalls: number;
}

function hasDropoutCounter(m: Module): m is Module & DropoutCounter {
  return typeof (m as Partial<DropoutCounter>).dropoutCalls === 'number';
}

/** The trainable variables of `modules` (each listed once): the parameters a block's gradient must reach. */
export function trainableVariablesOf(modules: readonly Module[]): tf.Variable[] {
  const out = new Set<tf.Variable>();
  for (const m of modules) for (const [, v] of namedParameters(m, { trainableOnly: true })) out.add(v);
  return [...out];
}

/**
 * Runs `fn(inputs, constants)` as one checkpointed node. `inputs` are differentiated through;
 * `constants` (masks, RoPE tables) are kept for the recomputation but get no gradient. `variables`
 * are the trainable variables `fn` reads (their gradients come from the recomputation); `modules`
 * are searched for seeded dropout counters, rewound before the recomputation so that it draws the
 * same masks as the forward did. `scope` wraps the forward and, separately, the recomputation with
 * its backward (e.g. `withStreamedWeights`, so that a block's file-backed weights are in the
 * backend exactly while the block runs). Returns `fn`'s outputs, each with its own shape.
 */
export function checkpointed(
  fn: (inputs: tf.Tensor[], constants: tf.Tensor[]) => tf.Tensor[],
  inputs: readonly tf.Tensor[],
  constants: readonly tf.Tensor[],
  variables: readonly tf.Variable[],
  modules: readonly Module[] = [],
  scope: <T>(run: () => T) => T = (run) => run(),
): tf.Tensor[] {
  const counters: DropoutCounter[] = [];
  for (const m of modules) for (const [, sub] of namedModules(m)) if (hasDropoutCounter(sub)) counters.push(sub);
  const n = inputs.length;
  const k = constants.length;
  let shapes: number[][] = [];
  // All outputs travel as one flat tensor: a tf.customGrad node has a single output.
  const pack = (xs: tf.Tensor[], cs: tf.Tensor[]): tf.Tensor => {
    const outs = fn(xs, cs);
    shapes = outs.map((o) => o.shape);
    return outs.length === 1
      ? tf.reshape(outs[0]!, [-1])
      : tf.concat(
          outs.map((o) => tf.reshape(o, [-1])),
          0,
        );
  };
  const node = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const save = args.pop() as tf.GradSaveFunc;
    const xs = args.slice(0, n) as tf.Tensor[];
    const cs = args.slice(n, n + k) as tf.Tensor[];
    const before = counters.map((c) => c.dropoutCalls);
    const value = scope(() => tf.tidy(() => pack(xs, cs)));
    const after = counters.map((c) => c.dropoutCalls);
    save([...xs, ...cs]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const sx = saved.slice(0, n);
        const sc = saved.slice(n);
        counters.forEach((c, i) => {
          c.dropoutCalls = before[i]!;
        });
        const { value: again, grads } = scope(() => leanGradients(() => pack(sx, sc), [...sx, ...variables], dy));
        again.dispose();
        counters.forEach((c, i) => {
          c.dropoutCalls = after[i]!;
        });
        // Every input of the node needs a gradient: zeros where the recomputation does not reach
        // (a variable the block does not read) and for the constants.
        const gx = sx.map((x, i) => grads[i] ?? tf.zerosLike(x));
        const gv = variables.map((v, i) => grads[n + i] ?? tf.zerosLike(v));
        return [...gx, ...sc.map((c) => tf.zerosLike(c)), ...gv];
      },
    };
  });
  const flat = node(...inputs, ...constants, ...variables);
  if (shapes.length === 1) return [tf.reshape(flat, shapes[0]!)];
  const sizes = shapes.map((s) => s.reduce((a, b) => a * b, 1));
  return tf.split(flat, sizes, 0).map((t, i) => tf.reshape(t, shapes[i]!));
}
