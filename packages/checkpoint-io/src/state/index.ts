// Public API of checkpoint-io's state module: the resumable training checkpoint (LAYOUT.md).
export { saveCheckpoint } from './save.js';
export type { SaveCheckpointOptions, SavedCheckpoint } from './save.js';
export { loadCheckpoint, loadCheckpointDir, resolveCheckpoint, missingPieces } from './load.js';
export type { LoadCheckpointOptions, ResolveOptions } from './load.js';
export { applyRetention, selectRetained } from './retention.js';
export { canonicalJson, hashConfig, diffConfigKeys } from './config-hash.js';
export { validateOptimizerAgainst } from './tensor-files.js';
export { parseTrainerState, readTrainerState } from './trainer-state-file.js';
export {
  ADAPTER_DIR,
  LATEST_POINTER,
  OPTIMIZER_FILE,
  STATE_FORMAT_VERSION,
  TRAINABLE_FILE,
  TRAINER_STATE_FILE,
  listStepDirs,
  parseStepDirName,
  stepDirName,
} from './layout.js';
export {
  CheckpointIncompleteError,
  CheckpointWriteError,
  CheckpointPointerError,
  ConfigMismatchError,
  NoCheckpointError,
  OptimizerStateError,
  TrainerStateInvalidError,
  TrainingStateError,
} from './errors.js';
export type {
  CheckpointContents,
  F32Tensor,
  JsonValue,
  LoadedCheckpoint,
  MetricRecord,
  OptimizerCheckpoint,
  RetentionPolicy,
  TrainerState,
  TrainerStateInput,
} from './types.js';
