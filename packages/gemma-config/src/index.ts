// Public API of @vla-lora/gemma-config (no tfjs).
export { numel, bytesPerElement } from './param-spec.js';
export type { ParamSpec, ParamDtype } from './param-spec.js';
export { GemmaConfigError, UnknownVariantError, InvalidConfigError, DuplicateParamError } from './errors.js';
export {
  PALIGEMMA_VOCAB_SIZE,
  ATTN_LINEARS,
  FFN_LINEARS,
  GEMMA_VARIANT_NAMES,
  getGemmaVariant,
  loraLinearsOf,
} from './gemma-variants.js';
export type {
  GemmaVariant,
  GemmaVariantName,
  GemmaLoraSettings,
  GemmaLinearName,
  LoraTargetGroup,
} from './gemma-variants.js';
export { SIGLIP_SO400M_14, SIGLIP_TINY, siglipNumTokens } from './siglip.js';
export type { SiglipConfig } from './siglip.js';
export { linearSpecs } from './linear-spec.js';
export type { LinearLora, LinearSpecOptions } from './linear-spec.js';
export { gemmaModelSpecs, gemmaCausalLmSpecs, hfGemmaDims, hfGemmaConfigFromDims } from './gemma-specs.js';
export { peftToOpenpiLoraPath, openpiToPeftLoraPath } from './lora-naming.js';
export type {
  HfGemmaConfig,
  GemmaDims,
  GemmaLoraOptions,
  GemmaModelSpecOptions,
  GemmaCausalLmSpecOptions,
} from './gemma-specs.js';
export { getPi0Config, pi0Variants, validatePi0Config, pi0SequenceLengths, PI0_PRESET_NAMES } from './pi0-config.js';
export type { Pi0Config, Pi0PresetName } from './pi0-config.js';
export { pi0ParamSpecs, siglipVisionSpecs, PI0_PATHS, PI0_HEADS } from './pi0-specs.js';
export type { Pi0HeadName } from './pi0-specs.js';
export { pathSegments, isLoraPath, isUnder } from './path-segments.js';
export { countParams, sumParams, assertUniquePaths } from './accounting.js';
export type { ParamCounts, TrainablePredicate } from './accounting.js';
export { memoryBill, formatBytes } from './memory-bill.js';
export { pi0MemoryBill, OPENPI_PUBLISHED_MEMORY } from './pi0-memory.js';
export type { Pi0MemoryBillOptions } from './pi0-memory.js';
export type {
  MemoryBill,
  MemoryBillOptions,
  MemoryBillRow,
  ComputeDtype,
  OptimizerKind,
  ShardStage,
} from './memory-bill.js';
export {
  pi0ActivationStacks,
  gemmaActivationStack,
  siglipActivationStack,
  inferActivationStacks,
  stackActivationBytes,
  layerActivationBytes,
  checkpointedInputBytes,
} from './activation-stacks.js';
export type { ActivationStack } from './activation-stacks.js';
export * from './families/index.js';
