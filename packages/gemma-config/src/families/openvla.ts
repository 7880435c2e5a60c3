// OpenVLA (OpenVLAForActionPrediction, Prismatic `prism-dinosiglip-224px`): the fused `dinosiglip-vit-so-224px`
// vision backbone (DINOv2 ViT-L/14 + 4 registers and SigLIP So400m/14, features concatenated: 1024 + 1152 = 2176
// wide per patch), the `fused-gelu-mlp` projector (2176 → 8704 → 4096 → 4096, GELU) and Llama-2-7B with the
// vocabulary padded from 32,000 to a multiple of 64 (32,064: the <PAD> token plus padding), untied head.
import type { ParamDtype } from '../param-spec.js';
import { decoderModules, type HfDecoderConfig } from './llama.js';
import { mod, type ModuleSpec } from './modules.js';
import { DINOV2_VIT_L14_REG4_224, SIGLIP_SO400M_14_224_TIMM, timmVitModules, type TimmVitConfig } from './vit.js';

export interface OpenVlaConfig {
  llm: HfDecoderConfig;
  /** OpenVLA config.json: text_config.vocab_size (32064) and pad_to_multiple_of (64). */
  paddedVocabSize: number;
  padToMultipleOf: number;
  vision: readonly [TimmVitConfig, TimmVitConfig];
}

/** The padded vocabulary: base vocab + 1 pad token, rounded up to `padToMultipleOf` (Prismatic). */
export function paddedVocab(baseVocab: number, padToMultipleOf: number): number {
  return Math.ceil((baseVocab + 1) / padToMultipleOf) * padToMultipleOf;
}

export function openVlaModules(c: OpenVlaConfig, dtype: ParamDtype = 'bfloat16'): ModuleSpec[] {
  const [dino, siglip] = c.vision;
  const visionDim = dino.width + siglip.width;
  const llmDim = c.llm.hidden_size;
  return [
    ...timmVitModules(dino, 'vision_backbone.featurizer', dtype),
    ...timmVitModules(siglip, 'vision_backbone.fused_featurizer', dtype),
    mod.linear('projector.fc1', visionDim, 4 * visionDim, true, dtype),
    mod.linear('projector.fc2', 4 * visionDim, llmDim, true, dtype),
    mod.linear('projector.fc3', llmDim, llmDim, true, dtype),
    ...decoderModules(c.llm, {
      prefix: 'language_model.model',
      lmHead: 'language_model.lm_head',
      qkvBias: false,
      dtype,
      vocabSize: c.paddedVocabSize,
    }),
  ];
}

export const OPENVLA_VISION: readonly [TimmVitConfig, TimmVitConfig] = [
  DINOV2_VIT_L14_REG4_224,
  SIGLIP_SO400M_14_224_TIMM,
];
