import type { GemmaDims } from './gemma-specs.js';
import { pi0SequenceLengths, pi0Variants, type Pi0Config } from './pi0-config.js';
import { siglipNumTokens, type SiglipConfig } from './siglip.js';
import type { ParamSpec } from './param-spec.js';

/**
 * One stack of transformer layers as the activation estimate sees it. `sequences` is how many
 * sequences of `tokens` one example feeds it (pi0: one SigLIP pass per camera).
 */
export interface ActivationStack {
  name: string;
  layers: number;
  tokens: number;
  /** Keys each query attends to (pi0's expert attends to prefix + suffix); defaults to `tokens`. */
  keys?: number;
  sequences?: number;
  hidden: number;
  qDim: number;
  kvDim: number;
  numHeads: number;
  mlpDim: number;
  /** `gated`: Gemma's gate/up/act/product (4 tensors of mlpDim); `plain`: fc1 + activation (2). */
  mlp: 'gated' | 'plain';
}

/** The stack of one Gemma decoder for `tokens` tokens. */
export function gemmaActivationStack(name: string, dims: GemmaDims, tokens: number, keys = tokens): ActivationStack {
  return {
    name,
    layers: dims.depth,
    tokens,
    keys,
    hidden: dims.width,
    qDim: dims.numHeads * dims.headDim,
    kvDim: dims.numKvHeads * dims.headDim,
    numHeads: dims.numHeads,
    mlpDim: dims.mlpDim,
    mlp: 'gated',
  };
}

/** The stack of a SigLIP tower, one sequence per image. */
export function siglipActivationStack(cfg: SiglipConfig, images: number): ActivationStack {
  const t = siglipNumTokens(cfg);
  return {
    name: 'siglip',
    layers: cfg.numLayers,
    tokens: t,
    sequences: images,
    hidden: cfg.hiddenSize,
    qDim: cfg.hiddenSize,
    kvDim: cfg.hiddenSize,
    numHeads: cfg.numHeads,
    mlpDim: cfg.intermediateSize,
    mlp: 'plain',
  };
}

/** pi0's three stacks for one training example: SigLIP per camera, PaliGemma on the prefix, the expert on the suffix (attending to prefix + suffix). */
export function pi0ActivationStacks(cfg: Pi0Config): ActivationStack[] {
  const { paligemma, expert } = pi0Variants(cfg);
  const seq = pi0SequenceLengths(cfg);
  return [
    siglipActivationStack(cfg.siglip, cfg.imageKeys.length),
    gemmaActivationStack('paligemma', paligemma, seq.prefix),
    gemmaActivationStack('gemma_expert', expert, seq.suffix, seq.total),
  ];
}

/**
 * Infer stacks from specs: every module holding `layers.<i>` children is a stack; hidden from its
 * first norm, q/k dims from q_proj/k_proj, MLP from gate_proj (gated) or fc1 (plain). Heads are not
 * visible in shapes: `numHeads` (default 8, openpi's Gemma) is used for the attention-probability term.
 */
export function inferActivationStacks(specs: readonly ParamSpec[], tokens: number, numHeads = 8): ActivationStack[] {
  const stacks = new Map<string, { layers: Set<string>; dims: Map<string, number[]> }>();
  for (const s of specs) {
    const m = /^(.*?)\.?layers\.(\d+)\.(.*)$/.exec(s.path);
    if (!m) continue;
    const [, prefix = '', idx = '', rest = ''] = m;
    let st = stacks.get(prefix);
    if (!st) stacks.set(prefix, (st = { layers: new Set(), dims: new Map() }));
    st.layers.add(idx);
    const key = rest.replace('.base_layer', '');
    if (!st.dims.has(key)) st.dims.set(key, s.shape);
  }
  const out: ActivationStack[] = [];
  for (const [prefix, st] of stacks) {
    const get = (k: string): number[] | undefined => {
      for (const [key, shape] of st.dims) if (key.endsWith(k)) return shape;
      return undefined;
    };
    const q = get('q_proj.weight');
    const k = get('k_proj.weight');
    const gate = get('gate_proj.weight');
    const fc1 = get('fc1.weight');
    if (!q || !k || (!gate && !fc1)) continue;
    const hidden = q[1] ?? 0;
    out.push({
      name: prefix || '(root)',
      layers: st.layers.size,
      tokens,
      hidden,
      qDim: q[0] ?? 0,
      kvDim: k[0] ?? 0,
      numHeads,
      mlpDim: (gate ?? fc1)?.[0] ?? 0,
      mlp: gate ? 'gated' : 'plain',
    });
  }
  return out;
}

/**
 * Bytes one layer keeps for backward, per sequence of one example:
 *   per token: h (block input) + h (norm out) + qDim + 2·kvDim (q, k, v) + qDim (attention output
 *   before o_proj) + h (residual) + h (second norm out) + c·mlpDim (c = 4 gated, 2 plain),
 *   plus heads · keys (softmax probabilities) — all at `bytes` per element.
 */
export function layerActivationBytes(st: ActivationStack, bytes: number): number {
  const c = st.mlp === 'gated' ? 4 : 2;
  const keys = st.keys ?? st.tokens;
  const perTokenLayer = 4 * st.hidden + 2 * st.qDim + 2 * st.kvDim + c * st.mlpDim + st.numHeads * keys;
  return st.tokens * perTokenLayer * bytes;
}

/** With checkpointing, what one example keeps between forward and backward: each layer's input (h per token) only. */
export function checkpointedInputBytes(st: ActivationStack, bytes: number): number {
  return (st.sequences ?? 1) * st.layers * st.tokens * st.hidden * bytes;
}

/**
 * Bytes of activations autograd keeps for backward, per example, for one stack: every layer's
 * `layerActivationBytes` for every sequence. With gradient checkpointing each layer keeps only its
 * input (`checkpointedInputBytes`) and one layer at a time is recomputed in full.
 */
export function stackActivationBytes(st: ActivationStack, bytes: number, checkpointing: boolean): number {
  const oneLayer = layerActivationBytes(st, bytes);
  const seqs = st.sequences ?? 1;
  if (!checkpointing) return seqs * st.layers * oneLayer;
  return checkpointedInputBytes(st, bytes) + seqs * oneLayer;
}
