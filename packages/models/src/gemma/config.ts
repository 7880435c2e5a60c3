// A transformers Gemma `config.json`, parsed and checked: the numbers the forward pass needs.
import type { HfGemmaConfig } from '@vla-lora/gemma-config';
import { ModelConfigError } from '../errors.js';

export interface GemmaConfig {
  vocabSize: number;
  hiddenSize: number;
  intermediateSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  rmsNormEps: number;
  ropeTheta: number;
  /** Attention scale: query_pre_attn_scalar^-0.5 when set, else head_dim^-0.5. */
  attnScale: number;
  hiddenAct: 'gelu_pytorch_tanh';
  tieWordEmbeddings: boolean;
  attentionBias: boolean;
}

type Json = Record<string, unknown>;

function num(cfg: Json, key: string, fallback?: number): number {
  const v = cfg[key];
  if (v === undefined || v === null) {
    if (fallback !== undefined) return fallback;
    throw new ModelConfigError(`config.json has no '${key}'; a transformers Gemma config needs it`);
  }
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new ModelConfigError(`config.json '${key}' must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Reads a transformers Gemma config (v4 and v5 spellings: `rope_theta` or `rope_parameters.rope_theta`,
 * `hidden_activation` or `hidden_act`). Refuses what this implementation does not compute
 * (other model types, rope scaling, other activations) instead of computing something else.
 */
export function parseGemmaConfig(raw: unknown): GemmaConfig {
  if (typeof raw !== 'object' || raw === null) throw new ModelConfigError('config.json must hold a JSON object');
  const cfg = raw as Json;
  const modelType = cfg['model_type'];
  if (modelType !== undefined && modelType !== 'gemma') {
    throw new ModelConfigError(
      `config.json model_type is '${String(modelType)}'; this loader implements transformers' 'gemma' (Gemma 1) only`,
    );
  }
  const hidden = num(cfg, 'hidden_size');
  const heads = num(cfg, 'num_attention_heads');
  const headDim = num(cfg, 'head_dim', hidden / heads);
  let theta = 10000;
  const rp = cfg['rope_parameters'];
  if (rp !== undefined && rp !== null) {
    if (typeof rp !== 'object') throw new ModelConfigError('config.json rope_parameters must be an object');
    const r = rp as Json;
    if (r['rope_type'] !== undefined && r['rope_type'] !== 'default') {
      throw new ModelConfigError(`rope_type '${String(r['rope_type'])}' is not implemented; only 'default' RoPE is`);
    }
    theta = num(r, 'rope_theta', theta);
  } else {
    theta = num(cfg, 'rope_theta', theta);
  }
  const scaling = cfg['rope_scaling'];
  if (scaling !== undefined && scaling !== null)
    throw new ModelConfigError('rope_scaling is not implemented; remove it or use a config without it');
  const act = (cfg['hidden_activation'] ?? cfg['hidden_act'] ?? 'gelu_pytorch_tanh') as string;
  if (act !== 'gelu_pytorch_tanh') {
    throw new ModelConfigError(`hidden activation '${act}' is not implemented; Gemma uses 'gelu_pytorch_tanh'`);
  }
  const qpas = cfg['query_pre_attn_scalar'];
  const attnScale = typeof qpas === 'number' ? Math.pow(qpas, -0.5) : Math.pow(headDim, -0.5);
  if (cfg['use_bidirectional_attention'] === true)
    throw new ModelConfigError('use_bidirectional_attention is not implemented (causal attention only)');
  const out: GemmaConfig = {
    vocabSize: num(cfg, 'vocab_size'),
    hiddenSize: hidden,
    intermediateSize: num(cfg, 'intermediate_size'),
    numLayers: num(cfg, 'num_hidden_layers'),
    numHeads: heads,
    numKvHeads: num(cfg, 'num_key_value_heads', heads),
    headDim,
    rmsNormEps: num(cfg, 'rms_norm_eps', 1e-6),
    ropeTheta: theta,
    attnScale,
    hiddenAct: 'gelu_pytorch_tanh',
    tieWordEmbeddings: cfg['tie_word_embeddings'] === undefined ? true : Boolean(cfg['tie_word_embeddings']),
    attentionBias: Boolean(cfg['attention_bias'] ?? false),
  };
  for (const k of [
    'vocabSize',
    'hiddenSize',
    'intermediateSize',
    'numLayers',
    'numHeads',
    'numKvHeads',
    'headDim',
  ] as const) {
    if (!Number.isInteger(out[k]) || out[k] <= 0)
      throw new ModelConfigError(`config ${k}=${out[k]} must be a positive integer`);
  }
  if (out.numHeads % out.numKvHeads !== 0) {
    throw new ModelConfigError(
      `num_attention_heads ${out.numHeads} must be a multiple of num_key_value_heads ${out.numKvHeads}`,
    );
  }
  return out;
}

/** The shape-deciding subset in gemma-config's terms (for gemmaCausalLmSpecs). */
export function toHfGemmaConfig(c: GemmaConfig): HfGemmaConfig {
  return {
    vocab_size: c.vocabSize,
    hidden_size: c.hiddenSize,
    intermediate_size: c.intermediateSize,
    num_hidden_layers: c.numLayers,
    num_attention_heads: c.numHeads,
    num_key_value_heads: c.numKvHeads,
    head_dim: c.headDim,
    tie_word_embeddings: c.tieWordEmbeddings,
    attention_bias: c.attentionBias,
  };
}
