// Public API of @vla-lora/models.
export * from './errors.js';
export {
  type RandomSource,
  type SeededRandomState,
  SeededRandom,
  normalArray,
  uniformArray,
} from './rng/random-source.js';
export { geluTanh, geluTanhGate, silu, activationByName } from './ops/activations.js';
export { gemmaRmsNorm, layerNorm } from './ops/norms.js';
export { type RopeTables, ropeInvFreq, ropeTables, rotateHalf, applyRope } from './ops/rope.js';
export { type AttentionDims, groupedQueryAttention } from './ops/attention.js';
export { checkpointed, trainableVariablesOf } from './ops/checkpoint.js';
export { type LeanGradients, leanGradients, leanVariableGrads } from './ops/backprop.js';
export {
  type BoolMask2d,
  MASK_NEG,
  makeAtt2dMasks,
  causalMask,
  concatKeys,
  additiveMask,
  positionsFromPadding,
} from './ops/masks.js';
export { IGNORE_INDEX, crossEntropyMean, causalLmLoss, oneHotFloat } from './ops/cross-entropy.js';
export { Embedding, embeddingLookup } from './layers/embedding.js';
export { GemmaRMSNorm } from './layers/rms-norm.js';
export { LayerNorm } from './layers/layer-norm.js';
export { type InitMode, type SpecBookOptions, type StreamPlan, SpecBook, isLoraSpec } from './params/spec-book.js';
export { type RowSource, StreamedSafetensors } from './params/streamed-file.js';
export { checkAgainstSpecs } from './params/check-specs.js';
export { type LoadStateDictOptions, type LoadReport, loadStateDict } from './params/load-state-dict.js';
export { type GemmaConfig, parseGemmaConfig, toHfGemmaConfig } from './gemma/config.js';
export { type Qkv, GemmaAttention } from './gemma/attention.js';
export { GemmaMLP } from './gemma/mlp.js';
export { GemmaDecoderLayer } from './gemma/decoder-layer.js';
export { type GemmaStackConfig, GemmaModel } from './gemma/gemma-model.js';
export {
  type TokenIds,
  type CausalLmForwardOptions,
  type LoadedCausalLm,
  GemmaForCausalLM,
  loadGemmaForCausalLM,
} from './gemma/causal-lm.js';
export { PatchEmbedding, SiglipVisionModel } from './siglip/siglip.js';
export { linspace64, sincosTimeEmbedding } from './pi0/time-embedding.js';
export { sampleFlowTime, sampleNoise, flowMatchingPair, flowMatchingLoss, eulerSample } from './pi0/flow-matching.js';
export { type PrefixCache, PaliGemmaWithExpert } from './pi0/paligemma-with-expert.js';
export {
  type Pi0Observation,
  type Pi0Batch,
  type Pi0CreateOptions,
  type Pi0SampleOptions,
  Pi0Policy,
} from './pi0/policy.js';
export { pi0LoraConfig } from './pi0/lora.js';
export {
  type OpenStreamedPi0Options,
  type StreamedPi0,
  type StreamedPi0Report,
  WASM_HEAP_MAX_BYTES,
  checkStreamedHeader,
  openStreamedPi0,
} from './pi0/streamed.js';
export { type LoadPi0Options, loadPi0Weights, type Pi0LoadReport, savePi0Weights } from './pi0/load.js';
export {
  canonicalPi0AdapterKey,
  canonicalPi0AdapterKeys,
  describePi0Layout,
  mapPi0Layout,
  PI0_EMBED_KEY,
  PI0_LEGACY_RENAMES,
  PI0_TIED_HEAD_KEY,
  type Pi0LayoutMapping,
  type Pi0WeightLayout,
} from './pi0/layout.js';
