import { InvalidConfigError } from './errors.js';
import type { GemmaLinearName } from './gemma-variants.js';
import { linearSpecs, type LinearLora } from './linear-spec.js';
import type { ParamDtype, ParamSpec } from './param-spec.js';

/** The fields of a transformers Gemma `config.json` that decide parameter shapes. */
export interface HfGemmaConfig {
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads: number;
  head_dim: number;
  tie_word_embeddings?: boolean;
  attention_bias?: boolean;
}

/** Shapes of a Gemma decoder stack in the terms openpi and transformers share. */
export interface GemmaDims {
  width: number;
  depth: number;
  mlpDim: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  attentionBias?: boolean;
}

/** LoRA on a Gemma stack: which of the seven projections, which rank (optionally per projection). */
export interface GemmaLoraOptions extends LinearLora {
  targets: readonly GemmaLinearName[];
}

export interface GemmaModelSpecOptions {
  /** Prefix of the GemmaModel module, with trailing dot, e.g. `model.` or `paligemma_with_expert.gemma_expert.model.`. */
  prefix: string;
  /** Vocabulary size of embed_tokens, or null when the model has no embedding (openpi's expert). */
  vocabSize: number | null;
  lora?: GemmaLoraOptions | undefined;
  /** dtype of everything except what `dtypeOf` overrides. */
  dtype?: ParamDtype;
  /** Per-path dtype override (openpi keeps norms in float32 under bf16 precision). */
  dtypeOf?: (path: string, fallback: ParamDtype) => ParamDtype;
}

function check(d: GemmaDims): void {
  for (const [k, v] of Object.entries(d)) {
    if (typeof v === 'number' && (!Number.isInteger(v) || v <= 0)) {
      throw new InvalidConfigError(`Gemma dimension ${k}=${v} must be a positive integer.`);
    }
  }
  if (d.numHeads % d.numKvHeads !== 0) {
    throw new InvalidConfigError(
      `numHeads ${d.numHeads} is not a multiple of numKvHeads ${d.numKvHeads}; grouped-query attention needs it.`,
    );
  }
}

/**
 * Specs of a transformers `GemmaModel` (embed_tokens, layers.N.{self_attn,mlp,input_layernorm,
 * post_attention_layernorm}, norm) in `named_parameters()` order.
 */
export function gemmaModelSpecs(dims: GemmaDims, opts: GemmaModelSpecOptions): ParamSpec[] {
  check(dims);
  const dt = opts.dtype ?? 'float32';
  const pick = (path: string): ParamDtype => (opts.dtypeOf ? opts.dtypeOf(path, dt) : dt);
  const { width: h, mlpDim: m, numHeads, numKvHeads, headDim } = dims;
  const q = numHeads * headDim;
  const kv = numKvHeads * headDim;
  const bias = dims.attentionBias ?? false;
  const targets = new Set(opts.lora?.targets ?? []);
  const out: ParamSpec[] = [];
  const p = opts.prefix;
  if (opts.vocabSize !== null) {
    const path = `${p}embed_tokens.weight`;
    out.push({ path, shape: [opts.vocabSize, h], dtype: pick(path) });
  }
  const lin = (mod: string, name: GemmaLinearName, inF: number, outF: number, b: boolean): ParamSpec[] => {
    const modulePath = `${mod}.${name}`;
    const lora = targets.has(name) && opts.lora ? opts.lora : undefined;
    return linearSpecs(modulePath, inF, outF, { bias: b, dtype: pick(`${modulePath}.weight`), lora });
  };
  for (let i = 0; i < dims.depth; i++) {
    const L = `${p}layers.${i}`;
    out.push(...lin(`${L}.self_attn`, 'q_proj', h, q, bias));
    out.push(...lin(`${L}.self_attn`, 'k_proj', h, kv, bias));
    out.push(...lin(`${L}.self_attn`, 'v_proj', h, kv, bias));
    out.push(...lin(`${L}.self_attn`, 'o_proj', q, h, bias));
    out.push(...lin(`${L}.mlp`, 'gate_proj', h, m, false));
    out.push(...lin(`${L}.mlp`, 'up_proj', h, m, false));
    out.push(...lin(`${L}.mlp`, 'down_proj', m, h, false));
    for (const n of ['input_layernorm', 'post_attention_layernorm']) {
      const path = `${L}.${n}.weight`;
      out.push({ path, shape: [h], dtype: pick(path) });
    }
  }
  const norm = `${p}norm.weight`;
  out.push({ path: norm, shape: [h], dtype: pick(norm) });
  return out;
}

/** Convert a transformers Gemma config to GemmaDims. */
export function hfGemmaDims(hf: HfGemmaConfig): GemmaDims {
  return {
    width: hf.hidden_size,
    depth: hf.num_hidden_layers,
    mlpDim: hf.intermediate_size,
    numHeads: hf.num_attention_heads,
    numKvHeads: hf.num_key_value_heads,
    headDim: hf.head_dim,
    attentionBias: hf.attention_bias ?? false,
  };
}

export interface GemmaCausalLmSpecOptions {
  /** Prefix before `model.` / `lm_head.`: '' for transformers, `base_model.model.` for a PEFT-wrapped model. */
  prefix?: string;
  lora?: GemmaLoraOptions;
  dtype?: ParamDtype;
}

/**
 * Specs of transformers' `GemmaForCausalLM` in `named_parameters()` order. With tied embeddings
 * (Gemma's default) `lm_head.weight` is an alias of `model.embed_tokens.weight`, counted once.
 */
export function gemmaCausalLmSpecs(hf: HfGemmaConfig, opts: GemmaCausalLmSpecOptions = {}): ParamSpec[] {
  const prefix = opts.prefix ?? '';
  const dims = hfGemmaDims(hf);
  const specs = gemmaModelSpecs(dims, {
    prefix: `${prefix}model.`,
    vocabSize: hf.vocab_size,
    lora: opts.lora,
    dtype: opts.dtype ?? 'float32',
  });
  const head = `${prefix}lm_head.weight`;
  if (hf.tie_word_embeddings ?? true) {
    const embed = specs[0];
    if (embed) embed.aliases = [head];
  } else {
    specs.push({ path: head, shape: [hf.vocab_size, dims.width], dtype: opts.dtype ?? 'float32' });
  }
  return specs;
}

/** A transformers Gemma config for a variant (what openpi's PaliGemmaWithExpertModel builds). */
export function hfGemmaConfigFromDims(dims: GemmaDims, vocabSize: number, tieWordEmbeddings = true): HfGemmaConfig {
  return {
    vocab_size: vocabSize,
    hidden_size: dims.width,
    intermediate_size: dims.mlpDim,
    num_hidden_layers: dims.depth,
    num_attention_heads: dims.numHeads,
    num_key_value_heads: dims.numKvHeads,
    head_dim: dims.headDim,
    tie_word_embeddings: tieWordEmbeddings,
    attention_bias: dims.attentionBias ?? false,
  };
}
