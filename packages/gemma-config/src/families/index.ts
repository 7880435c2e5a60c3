// Model families beyond pi0 (Llama-2, Qwen2.5-VL, OpenVLA's Prismatic) as module and parameter specs.
export { moduleParams, isLoraWrappable } from './modules.js';
export type { ModuleSpec, ModuleKind, ModuleLora } from './modules.js';
export { matchesTargetModules, allLinearTargets } from './peft-targets.js';
export type { AllLinearRule } from './peft-targets.js';
export { decoderModules } from './llama.js';
export type { HfDecoderConfig, DecoderOptions } from './llama.js';
export {
  timmVitModules,
  vitPatchTokens,
  DINOV2_VIT_L14_REG4_224,
  SIGLIP_SO400M_14_224_TIMM,
} from './vit.js';
export type { TimmVitConfig } from './vit.js';
export {
  qwen25VlModules,
  qwen25VlVisionModules,
  qwenVisionBlockAttention,
  qwenWindowPatches,
  QWEN25_VL_VISION_KEYS,
  QWEN25_VL_PROJECTOR_KEY,
} from './qwen2-5-vl.js';
export type { Qwen25VlConfig, Qwen25VlVisionConfig } from './qwen2-5-vl.js';
export { openVlaModules, paddedVocab, OPENVLA_VISION } from './openvla.js';
export type { OpenVlaConfig } from './openvla.js';
export { LLAMA2_7B_CONFIG, QWEN25_VL_7B_CONFIG, QWEN25_VL_3B_CONFIG, OPENVLA_7B_CONFIG } from './configs.js';
export {
  FAMILY_RECIPE_NAMES,
  getFamilyRecipe,
  planFamily,
  peftTrainableLine,
  llamaFactoryAllTargets,
} from './recipes.js';
export type {
  FamilyRecipe,
  FamilyRecipeName,
  FamilyPlan,
  FamilyPlanOptions,
  FamilyTraining,
  FamilyFlow,
  FamilyFlowStage,
  PeftLoraConfigJson,
  PublishedFigure,
} from './recipes.js';
export { launchSpec } from './launch.js';
export type { LaunchEngine, LaunchOptions, LaunchSpec, DeepSpeedConfig } from './launch.js';
