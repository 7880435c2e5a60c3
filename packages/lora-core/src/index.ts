// Public API of @vla-lora/lora-core.
export * from './errors.js';
export { type BufferLimits, assertBufferFits, bufferLimits } from './buffer-limits.js';
export {
  type Module,
  type NamedParametersOptions,
  type WeightSource,
  namedStreamedParameters,
  withStreamedWeights,
  namedModules,
  namedParameters,
  parameterMap,
  getModule,
  replaceModule,
  setTraining,
  disposeModule,
  ModuleBase,
  ModuleDict,
  ModuleList,
} from './module.js';
export {
  type LinearLike,
  type LinearOptions,
  Linear,
  linearApply,
  tensorFromPytorch,
  assignFromPytorch,
} from './linear.js';
export {
  FAST_MATMUL_FLAG,
  fastMatMul,
  matMulT,
  swapLast,
  flattenLeading,
  linear2d,
  loraDelta2d,
  loraLinear2d,
} from './matmul.js';
export {
  type LoraConfig,
  type LoraConfigInput,
  type LoraInit,
  type PeftConfigJson,
  LORA_DEFAULTS,
  makeLoraConfig,
  loraScaling,
  loraConfigFromPeft,
  loraConfigToPeft,
} from './config.js';
export { type TargetMatch, matchTarget, patternKey, rankAndAlphaFor } from './target-match.js';
export { type LoraLinearOptions, LoraLinear, initLoraWeights } from './lora-linear.js';
export {
  type InjectOptions,
  type InjectReport,
  type WrappedModule,
  injectLora,
  isLoraParameterName,
  freezeNonLora,
  loraLayers,
  unloadLora,
  mergeLora,
  unmergeLora,
  dropoutState,
  restoreDropoutState,
} from './inject.js';
export {
  PEFT_PREFIX,
  type SaveAdapterOptions,
  type LoadAdapterOptions,
  type LoadAdapterReport,
  adapterParameters,
  saveAdapter,
  loadAdapter,
  applyAdapter,
} from './save-load.js';
export {
  type MergeFileOptions,
  type MergeFileReport,
  mergeAdapterIntoSafetensors,
  addLoraDelta,
} from './merge-file.js';
