// Llama / Qwen2 decoder stacks from a Hugging Face config.json, as transformers' LlamaForCausalLM and Qwen2
// (the Qwen2.5-VL language model) build them.
import { InvalidConfigError } from '../errors.js';
import type { ParamDtype } from '../param-spec.js';
import { mod, type ModuleSpec } from './modules.js';

/** The config.json fields a decoder stack needs (transformers' LlamaConfig / Qwen2 text config names). */
export interface HfDecoderConfig {
  hidden_size: number;
  intermediate_size: number;
  num_attention_heads: number;
  num_hidden_layers: number;
  num_key_value_heads?: number;
  vocab_size: number;
  tie_word_embeddings?: boolean;
  head_dim?: number;
}

export interface DecoderOptions {
  /** Prefix of the decoder (`model`, `language_model.model`). */
  prefix: string;
  /** Path of the output head (`lm_head`, `language_model.lm_head`). */
  lmHead: string;
  /** q/k/v projections with bias (Qwen2: true; Llama: attention_bias, false for Llama-2). */
  qkvBias: boolean;
  dtype: ParamDtype;
  /** Overrides config.vocab_size (OpenVLA pads the embedding to 32064). */
  vocabSize?: number;
}

export function checkDecoderConfig(c: HfDecoderConfig, what: string): void {
  for (const k of [
    'hidden_size',
    'intermediate_size',
    'num_attention_heads',
    'num_hidden_layers',
    'vocab_size',
  ] as const)
    if (!Number.isSafeInteger(c[k]) || c[k] <= 0)
      throw new InvalidConfigError(`${what}: config.json field ${k}=${String(c[k])} must be a positive integer.`);
  if (c.hidden_size % c.num_attention_heads !== 0 && c.head_dim === undefined)
    throw new InvalidConfigError(`${what}: hidden_size ${c.hidden_size} is not a multiple of num_attention_heads.`);
}

/** embed_tokens, the decoder layers, the final norm and the (tied or untied) output head. */
export function decoderModules(c: HfDecoderConfig, o: DecoderOptions): ModuleSpec[] {
  checkDecoderConfig(c, o.prefix);
  const h = c.hidden_size;
  const hd = c.head_dim ?? h / c.num_attention_heads;
  const kv = (c.num_key_value_heads ?? c.num_attention_heads) * hd;
  const q = c.num_attention_heads * hd;
  const vocab = o.vocabSize ?? c.vocab_size;
  const d = o.dtype;
  const tied = c.tie_word_embeddings ?? false;
  const out: ModuleSpec[] = [
    {
      path: `${o.prefix}.embed_tokens`,
      kind: 'Embedding',
      inFeatures: vocab,
      outFeatures: h,
      dtype: d,
      ...(tied ? { weightAliases: [`${o.lmHead}.weight`] } : {}),
    },
  ];
  for (let l = 0; l < c.num_hidden_layers; l++) {
    const p = `${o.prefix}.layers.${l}`;
    out.push(
      mod.linear(`${p}.self_attn.q_proj`, h, q, o.qkvBias, d),
      mod.linear(`${p}.self_attn.k_proj`, h, kv, o.qkvBias, d),
      mod.linear(`${p}.self_attn.v_proj`, h, kv, o.qkvBias, d),
      mod.linear(`${p}.self_attn.o_proj`, q, h, false, d),
      mod.linear(`${p}.mlp.gate_proj`, h, c.intermediate_size, false, d),
      mod.linear(`${p}.mlp.up_proj`, h, c.intermediate_size, false, d),
      mod.linear(`${p}.mlp.down_proj`, c.intermediate_size, h, false, d),
      mod.rmsNorm(`${p}.input_layernorm`, h, d),
      mod.rmsNorm(`${p}.post_attention_layernorm`, h, d),
    );
  }
  out.push(mod.rmsNorm(`${o.prefix}.norm`, h, d));
  // A tied head is the embedding's weight under a second name: not a parameter of its own. It is still a
  // Linear module (PEFT's all-linear sees it), so it is listed with the shared weight as an alias.
  if (!tied) out.push(mod.linear(o.lmHead, h, vocab, false, d));
  return out;
}
