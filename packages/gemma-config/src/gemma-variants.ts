import { UnknownVariantError } from './errors.js';
import type { GemmaDims } from './gemma-specs.js';

/** openpi's `PALIGEMMA_VOCAB_SIZE`. */
export const PALIGEMMA_VOCAB_SIZE = 257_152;

/** Which Gemma projections a LoRA group covers: `attn` = q/k/v/o, `ffn` = gate/up/down (openpi's lora_configs keys). */
export type LoraTargetGroup = 'attn' | 'ffn';

/** The seven Gemma projection names in the PyTorch (transformers) layout. */
export type GemmaLinearName = 'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj';

export const ATTN_LINEARS: readonly GemmaLinearName[] = ['q_proj', 'k_proj', 'v_proj', 'o_proj'];
export const FFN_LINEARS: readonly GemmaLinearName[] = ['gate_proj', 'up_proj', 'down_proj'];

export interface GemmaLoraSettings {
  rank: number;
  alpha: number;
  targets: LoraTargetGroup[];
}

/** openpi's `gemma.Config` (width, depth, mlp_dim, heads, kv heads, head_dim, lora_configs): named dims, no bias. */
export interface GemmaVariant extends Omit<GemmaDims, 'attentionBias'> {
  name: GemmaVariantName;
  lora?: GemmaLoraSettings;
}

/**
 * openpi's five variants (src/openpi/models/gemma.py `get_config`) plus this project's tiny CPU
 * pair: `gemma_tiny` has exactly the shapes of the `fixtures/peft-tiny-gemma` model (width 64,
 * 2 layers, MLP 128, 4 heads, 1 KV head, head_dim 16) and is the tiny pi0's PaliGemma LM;
 * `gemma_tiny_expert` is a narrower action expert that can share attention with it (same depth,
 * heads, kv heads, head_dim).
 */
export type GemmaVariantName =
  | 'dummy'
  | 'gemma_300m'
  | 'gemma_2b'
  | 'gemma_2b_lora'
  | 'gemma_300m_lora'
  | 'gemma_tiny'
  | 'gemma_tiny_lora'
  | 'gemma_tiny_expert'
  | 'gemma_tiny_expert_lora';

const base = {
  dummy: { width: 64, depth: 4, mlpDim: 128, numHeads: 8, numKvHeads: 1, headDim: 16 },
  gemma_tiny: { width: 64, depth: 2, mlpDim: 128, numHeads: 4, numKvHeads: 1, headDim: 16 },
  gemma_tiny_expert: { width: 32, depth: 2, mlpDim: 64, numHeads: 4, numKvHeads: 1, headDim: 16 },
  gemma_300m: { width: 1024, depth: 18, mlpDim: 4096, numHeads: 8, numKvHeads: 1, headDim: 256 },
  gemma_2b: { width: 2048, depth: 18, mlpDim: 16_384, numHeads: 8, numKvHeads: 1, headDim: 256 },
} as const;

const VARIANTS: Readonly<Record<GemmaVariantName, Omit<GemmaVariant, 'name'>>> = {
  dummy: base.dummy,
  gemma_300m: base.gemma_300m,
  gemma_2b: base.gemma_2b,
  gemma_2b_lora: { ...base.gemma_2b, lora: { rank: 16, alpha: 16, targets: ['attn', 'ffn'] } },
  gemma_300m_lora: { ...base.gemma_300m, lora: { rank: 32, alpha: 32, targets: ['attn', 'ffn'] } },
  gemma_tiny: base.gemma_tiny,
  gemma_tiny_lora: { ...base.gemma_tiny, lora: { rank: 8, alpha: 8, targets: ['attn', 'ffn'] } },
  gemma_tiny_expert: base.gemma_tiny_expert,
  gemma_tiny_expert_lora: { ...base.gemma_tiny_expert, lora: { rank: 8, alpha: 8, targets: ['attn', 'ffn'] } },
};

export const GEMMA_VARIANT_NAMES = Object.keys(VARIANTS) as GemmaVariantName[];

/** The variant as typed data (a fresh copy; mutate freely). Throws UnknownVariantError. */
export function getGemmaVariant(name: GemmaVariantName | string): GemmaVariant {
  if (!Object.hasOwn(VARIANTS, name)) {
    throw new UnknownVariantError('Gemma', name, GEMMA_VARIANT_NAMES);
  }
  const v = VARIANTS[name as GemmaVariantName];
  return structuredClone({ name: name as GemmaVariantName, ...v });
}

/** The linear layers a variant's LoRA covers, in transformers' module order. */
export function loraLinearsOf(lora: Pick<GemmaLoraSettings, 'targets'>): GemmaLinearName[] {
  const out: GemmaLinearName[] = [];
  if (lora.targets.includes('attn')) out.push(...ATTN_LINEARS);
  if (lora.targets.includes('ffn')) out.push(...FFN_LINEARS);
  return out;
}
