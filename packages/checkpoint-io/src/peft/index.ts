// Public API of checkpoint-io's peft module.
export * from './errors.js';
export { loadPeftAdapter, savePeftAdapter } from './adapter.js';
export {
  openAdapterWeights,
  readAdapterWeights,
  findAdapterWeights,
  ADAPTER_SAFETENSORS_NAME,
  ADAPTER_BIN_NAME,
} from './weights.js';
export type { AdapterWeights } from './weights.js';
export type { PeftAdapter } from './adapter.js';
export {
  parseAdapterConfig,
  serializeAdapterConfig,
  checkLoraConfig,
  loraRank,
  loraScaling,
  ADAPTER_CONFIG_NAME,
} from './config.js';
export type { PeftLoraConfig } from './config.js';
export { insertAdapterName, removeAdapterName, parseLoraKey, relativeModulePath } from './names.js';
export type { LoraKeyParts } from './names.js';
export { readAdapterConfig, writeAdapterConfig } from './config-fs.js';
export { verifyAdapterWeights } from './verify.js';
export type { AdapterReport, EmptyAdapterErrors } from './verify.js';
export { verifyAdapter } from './verify-dir.js';
export {
  type LoraParam,
  type AdapterChoice,
  type AdapterConfigFlags,
  type ExtractedAdapter,
  parseLoraParam,
  chooseAdapterName,
  draftAdapterConfig,
  writeVerifiedAdapter,
} from './extract.js';
export {
  type ExtractAdapterFlags,
  type ExtractAdapterFlagOptions,
  type ExtractAdapterOptionsSpec,
  addExtractAdapterOptions,
  extractAdapterFlagOptions,
  formatExtractedAdapter,
} from './extract-cli.js';
export {
  ZERO_RECOVER_COMMAND,
  zeroHint,
  placeholderErrorFor,
  zeroElementErrorFor,
  pickZeroCheckpointDir,
} from './zero-hint.js';
export { findZeroCheckpointDir } from './zero-hint-fs.js';
export { adapterWeightsFromReader, adapterWeightsFromPt } from './weights-source.js';
export { parsePyJson, dumpPyJson, pyFloatRepr } from './py-json.js';
export type { PyJson } from './py-json.js';
export { verifyAdapterFiles, openAdapterFiles, loadPeftAdapterFiles } from './verify-files.js';
export type { OpenAdapterBin, AdapterFiles } from './verify-files.js';
export {
  type TargetRules,
  type RankRules,
  type TargetMatch,
  ALL_LINEAR,
  isAllLinear,
  listMatch,
  isExcluded,
  isModuleToSave,
  checkTargetRules,
  checkRankRules,
  matchTarget,
  targetEntriesNaming,
  expandAllLinear,
  patternKey,
  rankAndAlphaFor,
  loraScalingOf,
  rulesFromPeftJson,
} from './rules.js';
export { type PyRegex, translatePyRegex, pyFullmatch, pyMatch, checkPyRegex } from './py-regex.js';
export {
  type TensorShapeInfo,
  type AdapterFitReport,
  checkAdapterFit,
  assertAdapterFits,
  adapterWrapperPrefix,
} from './base-fit.js';
export {
  type BaseHeaders,
  type BaseHeaderOptions,
  type AdapterBaseReport,
  readBaseHeaders,
  verifyAdapterAgainstBase,
} from './base-fit-fs.js';
