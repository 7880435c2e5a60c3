// Public API of @vla-lora/zero-merge.
export {
  ZeroMergeError,
  CheckpointNotFoundError,
  RankFilesError,
  WorldSizeMismatchError,
  UnsupportedStageError,
  UnsupportedCheckpointError,
  CorruptCheckpointError,
  NumelMismatchError,
  ZeroMergeUsageError,
  OutputExistsError,
  NoLoraTensorsError,
  AdapterConfigError,
} from './errors.js';
export { locateCheckpoint } from './locate.js';
export type { CheckpointLocation } from './locate.js';
export { openZeroCheckpoint } from './checkpoint.js';
export type { ZeroCheckpoint, ZeroStage, ModelStates } from './checkpoint.js';
export { reconstruct } from './reconstruct.js';
export type { Reconstruction, ReconstructedTensor, ReconstructOptions, TensorKind, KindCount } from './reconstruct.js';
export { consolidate, selectTensors, DEFAULT_MAX_SHARD_SIZE } from './consolidate.js';
export type { ConsolidateOptions, ConsolidateResult } from './consolidate.js';
export { extractAdapter, parseLoraParam } from './adapter.js';
export type { ExtractAdapterOptions, ExtractAdapterResult, LoraParam } from './adapter.js';
export { inspectCheckpoint, formatInspectReport } from './inspect.js';
export type { InspectReport, InspectFile, AdapterFileState } from './inspect.js';
export { parseOutputDtype, outputDtype, OUTPUT_DTYPES } from './dtypes.js';
export type { OutputDtype } from './dtypes.js';
export { nameFilter, compilePattern, containsModule } from './filter.js';
export { parseSize } from './size.js';
export type { ProgressEvent, ProgressListener } from './progress.js';
