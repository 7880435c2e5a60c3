// Reverse-mode gradients over tfjs's tape that free memory as they go. tfjs-core's own
// `engine.gradients` keeps every intermediate gradient and every saved tensor until the whole
// backward pass ends, so a backward pass holds about as much again as the forward kept. Here each
// node's saved tensors and the gradients of its outputs are disposed as soon as the node is done
// (PyTorch's autograd frees the same way), and the pass can run inside another node's gradient
// function (activation checkpointing) without disturbing the outer tape.
//
// It reads two fields of the engine state of @tensorflow/tfjs-core 4.22 (pinned): the tape
// (`activeTape`, nodes as `Engine.addTapeNode` writes them) and `gradientDepth`. The pruning of
// the tape mirrors tfjs-core's `getFilteredNodesXToY`.
import * as tf from '@tensorflow/tfjs-core';

interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

interface EngineState {
  activeTape: TapeNode[] | null | undefined;
  gradientDepth: number;
}

function engineState(): EngineState {
  return (tf.engine() as unknown as { state: EngineState }).state;
}

/** The nodes of `tape` on a path from some x to y, each with only its inputs that depend on an x. */
function nodesFromXToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      nodesFromX.add(node.id);
      for (const o of node.outputs) fromX.add(o.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i]!;
    if (node.outputs.some((o) => toY.has(o.id))) {
      nodesToY.add(node.id);
      for (const t of Object.values(node.inputs)) toY.add(t.id);
    }
  }
  const out: TapeNode[] = [];
  for (const node of tape) {
    if (!nodesFromX.has(node.id) || !nodesToY.has(node.id)) continue;
    const inputs: Record<string, tf.Tensor> = {};
    for (const [name, t] of Object.entries(node.inputs)) if (fromX.has(t.id)) inputs[name] = t;
    out.push({ ...node, inputs });
  }
  return out;
}

export interface LeanGradients {
  value: tf.Tensor;
  /** One per x, in order; undefined where y does not depend on that x. */
  grads: Array<tf.Tensor | undefined>;
}

/**
 * Gradients of `f()` with respect to `xs` (times `dy`, default ones), as `tf.engine().gradients`
 * computes them, freeing each intermediate gradient and saved tensor once it has been used.
 */
export function leanGradients(f: () => tf.Tensor, xs: readonly tf.Tensor[], dy?: tf.Tensor): LeanGradients {
  const state = engineState();
  const created = state.activeTape == null;
  if (created) state.activeTape = [];
  const tape = state.activeTape!;
  const mark = tape.length;
  try {
    state.gradientDepth++;
    let y: tf.Tensor;
    try {
      y = tf.tidy('forward', f);
    } finally {
      state.gradientDepth--;
    }
    const nodes = nodesFromXToY(tape.slice(mark), xs, y);
    const grads = tf.tidy('backward', () => {
      const acc = new Map<number, tf.Tensor>();
      const keep = new Set<number>(xs.map((x) => x.id));
      const seed = dy ?? tf.onesLike(y);
      acc.set(y.id, seed);
      for (let i = nodes.length - 1; i >= 0; i--) {
        const node = nodes[i]!;
        if (!node.gradient)
          throw new Error(`Cannot compute gradient: gradient function not found for ${node.kernelName}.`);
        const dys = node.outputs.map((o) => acc.get(o.id) ?? null);
        const names = Object.keys(node.inputs);
        const dxs = tf.tidy(() => {
          const inputGrads = node.gradient!(dys);
          return names.map((name) => {
            const grad = inputGrads[name];
            if (!grad) throw new Error(`Cannot backprop through input ${name} of ${node.kernelName}.`);
            const dx = grad();
            // A gradient function may hand back one of its dys: copy it, the dys are freed below.
            return dys.includes(dx) ? dx.clone() : dx;
          });
        });
        names.forEach((name, j) => {
          const x = node.inputs[name]!;
          const dx = dxs[j]!;
          const prev = acc.get(x.id);
          if (prev === undefined) acc.set(x.id, dx);
          else {
            acc.set(x.id, tf.add(prev, dx));
            if (prev !== dy) prev.dispose();
            dx.dispose();
          }
        });
        for (const o of node.outputs) {
          const g = acc.get(o.id);
          if (g === undefined || keep.has(o.id)) continue;
          acc.delete(o.id);
          if (g !== dy) g.dispose();
        }
        for (const t of node.saved ?? []) t.dispose();
        node.saved = [];
      }
      return xs.map((x) => acc.get(x.id));
    });
    return { value: y, grads };
  } finally {
    for (const node of tape.splice(mark)) for (const t of node.saved ?? []) t.dispose();
    if (created) state.activeTape = null;
  }
}

/** `tf.variableGrads` on `leanGradients`: the value of the scalar `f` and the gradient of every variable it reaches. */
export function leanVariableGrads(
  f: () => tf.Scalar,
  varList: readonly tf.Variable[],
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const { value, grads } = leanGradients(f, varList);
  const out: tf.NamedTensorMap = {};
  varList.forEach((v, i) => {
    const g = grads[i];
    if (g !== undefined) out[v.name] = g;
  });
  return { value: value as tf.Scalar, grads: out };
}
