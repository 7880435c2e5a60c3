// The browser entry of @vla-lora/checkpoint-io (`@vla-lora/checkpoint-io/browser`): the readers that
// take a Blob/File or a URL instead of a path. Nothing here imports node: modules, so a bundler
// (esbuild, Vite, webpack) builds it for the browser without shims; browser.test.ts checks that.
export * from './errors.js';
export * from './dtype/index.js';
export * from './source/index.js';
export * from './safetensors/errors.js';
export { MAX_HEADER_SIZE, parseHeader, parseHeaderLength } from './safetensors/header.js';
export type { TensorInfo, TensorSlot, ParsedHeader } from './safetensors/header.js';
export type { SafetensorsReader } from './safetensors/reader.js';
export { ShardedSet, openShards, parseShardIndex, MAX_INDEX_BYTES } from './safetensors/sharded-set.js';
export type { ShardIndex, NamedShard } from './safetensors/sharded-set.js';
export { SafetensorsSourceFile, openSafetensorsSource } from './safetensors/source-reader.js';
export {
  openSafetensorsBlob,
  openSafetensorsFiles,
  openSafetensorsUrl,
  openShardedSource,
  readSourceText,
} from './safetensors/open-source.js';
export type { NamedBlob } from './safetensors/open-source.js';
export * from './peft/errors.js';
export {
  parseAdapterConfig,
  checkLoraConfig,
  loraRank,
  loraScaling,
  serializeAdapterConfig,
  ADAPTER_CONFIG_NAME,
} from './peft/config.js';
export type { PeftLoraConfig } from './peft/config.js';
export { insertAdapterName, removeAdapterName, parseLoraKey, relativeModulePath } from './peft/names.js';
export type { LoraKeyParts } from './peft/names.js';
export { verifyAdapterWeights } from './peft/verify.js';
export type { AdapterReport, EmptyAdapterErrors } from './peft/verify.js';
export { verifyAdapterFiles, openAdapterFiles, loadPeftAdapterFiles } from './peft/verify-files.js';
export type { OpenAdapterBin, AdapterFiles } from './peft/verify-files.js';
export type { PeftAdapter } from './peft/adapter.js';
export { adapterWeightsFromReader, adapterWeightsFromPt } from './peft/weights-source.js';
export * from './pt/errors.js';
export { PickleDict, PickleTuple, PickleSet, PickleGlobal, PickleObject } from './pt/pickle/values.js';
export type { PickleValue } from './pt/pickle/values.js';
export { TorchSize } from './pt/torch/values.js';
export { TorchTensor } from './pt/torch/tensor.js';
export { TorchStorage } from './pt/torch/storage.js';
export type { TorchDtype } from './pt/torch/dtypes.js';
export { torchToSafetensorsDtype } from './pt/torch/dtypes.js';
export { PtFile, flattenTensors } from './pt/pt-file.js';
export type { PtFileInfo } from './pt/pt-file.js';
export { readPtSource } from './pt/read-source.js';
export type { ReadPtOptions } from './pt/read-zip.js';
export { SourceZipArchive } from './pt/zip/source-archive.js';
export type { AdapterWeights } from './peft/weights.js';
export {
  ZERO_RECOVER_COMMAND,
  zeroHint,
  placeholderErrorFor,
  zeroElementErrorFor,
  pickZeroCheckpointDir,
} from './peft/zero-hint.js';
