import { InvalidConfigError, UnknownVariantError } from './errors.js';
import { getGemmaVariant, PALIGEMMA_VOCAB_SIZE, type GemmaVariant, type GemmaVariantName } from './gemma-variants.js';
import { SIGLIP_SO400M_14, SIGLIP_TINY, siglipNumTokens, type SiglipConfig } from './siglip.js';

/**
 * pi0 (openpi's `Pi0Config` + `PI0Pytorch`): PaliGemma (SigLIP + projector + Gemma LM) and a Gemma
 * action expert sharing attention, plus five projection heads.
 */
export interface Pi0Config {
  name: string;
  paligemmaVariant: GemmaVariantName;
  actionExpertVariant: GemmaVariantName;
  siglip: SiglipConfig;
  /** PaliGemma vocabulary (embed_tokens rows, tied lm_head) and the expert's unused lm_head rows. */
  vocabSize: number;
  /** openpi pads state and actions to 32 (`nn.Linear(32, width)`). */
  actionDim: number;
  actionHorizon: number;
  /** Tokens of the prompt (openpi: 48 for pi0). */
  maxTokenLen: number;
  /** Camera keys, one SigLIP pass each (openpi: base_0_rgb, left_wrist_0_rgb, right_wrist_0_rgb). */
  imageKeys: string[];
  /** openpi's `dtype`: bfloat16 casts paligemma_with_expert except patch/position embeddings and Gemma norms. */
  precision: 'bfloat16' | 'float32';
  /** PEFT adapter name used in LoRA parameter paths. */
  loraAdapterName: string;
}

const OPENPI_IMAGE_KEYS = ['base_0_rgb', 'left_wrist_0_rgb', 'right_wrist_0_rgb'];

export type Pi0PresetName =
  | 'pi0'
  | 'pi0_lora'
  | 'pi0_expert_lora'
  | 'pi0_tiny'
  | 'pi0_tiny_lora'
  | 'pi0_tiny_realvocab_lora';

/** openpi's pi0 at full size: SigLIP So400m/14, PaliGemma's vocabulary, 50-step chunks, 48 prompt tokens, bf16. */
function fullSize(name: Pi0PresetName, paligemma: GemmaVariantName, expert: GemmaVariantName): Pi0Config {
  return {
    name,
    paligemmaVariant: paligemma,
    actionExpertVariant: expert,
    siglip: { ...SIGLIP_SO400M_14 },
    vocabSize: PALIGEMMA_VOCAB_SIZE,
    actionDim: 32,
    actionHorizon: 50,
    maxTokenLen: 48,
    imageKeys: OPENPI_IMAGE_KEYS,
    precision: 'bfloat16',
    loraAdapterName: 'default',
  };
}

/** pi0's exact structure at toy widths: float32, 32 px images, 1024-piece vocabulary, 10-step chunks, 16 tokens. */
function tiny(
  name: Pi0PresetName,
  paligemma: GemmaVariantName,
  expert: GemmaVariantName,
  overrides: Partial<Pi0Config> = {},
): Pi0Config {
  return {
    name,
    paligemmaVariant: paligemma,
    actionExpertVariant: expert,
    siglip: { ...SIGLIP_TINY },
    vocabSize: 1024,
    actionDim: 32,
    actionHorizon: 10,
    maxTokenLen: 16,
    imageKeys: OPENPI_IMAGE_KEYS,
    precision: 'float32',
    loraAdapterName: 'default',
    ...overrides,
  };
}

const PRESETS: Readonly<Record<Pi0PresetName, Pi0Config>> = {
  pi0: fullSize('pi0', 'gemma_2b', 'gemma_300m'),
  pi0_lora: fullSize('pi0_lora', 'gemma_2b_lora', 'gemma_300m_lora'),
  /** Full PaliGemma, LoRA on the action expert only. */
  pi0_expert_lora: fullSize('pi0_expert_lora', 'gemma_2b', 'gemma_300m_lora'),
  /** The embedded CPU default. */
  pi0_tiny: tiny('pi0_tiny', 'gemma_tiny', 'gemma_tiny_expert'),
  pi0_tiny_lora: tiny('pi0_tiny_lora', 'gemma_tiny_lora', 'gemma_tiny_expert_lora'),
  // pi0_tiny_lora's toy widths with PaliGemma's real vocabulary (257,152 pieces, <locNNNN>/<segNNN>)
  // and openpi's max_token_len: runs end to end with a real SentencePiece tokenizer.
  pi0_tiny_realvocab_lora: tiny('pi0_tiny_realvocab_lora', 'gemma_tiny_lora', 'gemma_tiny_expert_lora', {
    vocabSize: PALIGEMMA_VOCAB_SIZE,
    maxTokenLen: 48,
  }),
};

export const PI0_PRESET_NAMES = Object.keys(PRESETS) as Pi0PresetName[];

/** A pi0 preset (fresh copy), optionally with fields overridden. */
export function getPi0Config(name: Pi0PresetName | string, overrides: Partial<Pi0Config> = {}): Pi0Config {
  if (!Object.hasOwn(PRESETS, name)) throw new UnknownVariantError('pi0', name, PI0_PRESET_NAMES);
  const cfg = { ...structuredClone(PRESETS[name as Pi0PresetName]), ...structuredClone(overrides) };
  validatePi0Config(cfg);
  return cfg;
}

/** The two Gemma variants of a pi0 config, checked to be able to share attention. */
export function pi0Variants(cfg: Pi0Config): { paligemma: GemmaVariant; expert: GemmaVariant } {
  const paligemma = getGemmaVariant(cfg.paligemmaVariant);
  const expert = getGemmaVariant(cfg.actionExpertVariant);
  for (const k of ['depth', 'numHeads', 'numKvHeads', 'headDim'] as const) {
    if (paligemma[k] !== expert[k]) {
      throw new InvalidConfigError(
        `pi0's PaliGemma (${paligemma.name}) and action expert (${expert.name}) must share ${k} to share attention (${paligemma[k]} vs ${expert[k]}); pick matching variants.`,
      );
    }
  }
  return { paligemma, expert };
}

/** Throws InvalidConfigError when the config cannot describe a pi0 model. */
export function validatePi0Config(cfg: Pi0Config): void {
  pi0Variants(cfg);
  siglipNumTokens(cfg.siglip);
  for (const k of ['vocabSize', 'actionDim', 'actionHorizon', 'maxTokenLen'] as const) {
    if (!Number.isInteger(cfg[k]) || cfg[k] <= 0)
      throw new InvalidConfigError(`pi0 ${k}=${cfg[k]} must be a positive integer.`);
  }
  if (cfg.imageKeys.length === 0) throw new InvalidConfigError('pi0 needs at least one image key (camera).');
}

/** Token counts of one training example: prefix (images + prompt) and suffix (state + actions). */
export function pi0SequenceLengths(cfg: Pi0Config): {
  imageTokens: number;
  prefix: number;
  suffix: number;
  total: number;
} {
  const imageTokens = siglipNumTokens(cfg.siglip) * cfg.imageKeys.length;
  const prefix = imageTokens + cfg.maxTokenLen;
  const suffix = 1 + cfg.actionHorizon;
  return { imageTokens, prefix, suffix, total: prefix + suffix };
}
