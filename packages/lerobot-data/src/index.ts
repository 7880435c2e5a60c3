// Public API of @vla-lora/lerobot-data.
export { LeRobotDataset, episodePath, type Frame, type OpenDatasetOptions } from './dataset.js';
export {
  readMeta,
  parseSplit,
  type LeRobotInfo,
  type LeRobotMeta,
  type FeatureSpec,
  type EpisodeMeta,
  type TaskMeta,
  type FeatureStats,
  type EpisodeStats,
} from './meta.js';
export { BOOKKEEPING, classifyFeatures, type EpisodeColumns, type FeatureKinds } from './episode-file.js';
export { actionChunk, type ActionChunk } from './action-chunk.js';
export {
  LiberoView,
  OPENPI_LIBERO_KEYS,
  CAMERAS,
  collateLibero,
  type LiberoKeys,
  type LiberoOptions,
  type LiberoSample,
  type LiberoBatch,
  type LiberoNormStats,
  type RawLiberoChunk,
  type CameraName,
  liberoInputs,
  type LiberoInputsOptions,
  type LiberoObservation,
} from './libero.js';
export {
  LIBERO_DELTA_MASK,
  makeBoolMask,
  deltaActions,
  absoluteActions,
  normalize,
  unnormalize,
  padToDim,
  type NormStats,
  type NormMode,
} from './transforms.js';
export {
  RunningStats,
  computeNormStats,
  serializeNormStats,
  parseNormStats,
  writeNormStats,
  loadNormStats,
  type ComputeNormStatsOptions,
  type ComputedNormStats,
} from './norm-stats.js';
export {
  computeNormStatsCommand,
  type ComputeNormStatsCommandOptions,
  type ComputeNormStatsResult,
} from './commands.js';
export { generateLiberoDataset, type GenerateLiberoOptions, type GeneratedDataset } from './generator.js';
export {
  SIM_TASKS,
  expertAction,
  stepState,
  renderMain,
  renderWrist,
  randomScene,
  initialState,
  simulateEpisode,
  taskTarget,
  type SimScene,
  type SimState,
  type SimStep,
} from './sim-task.js';
export { BatchSampler, parseSamplerCursor, type BatchSamplerOptions, type SamplerCursor } from './sampler.js';
export { Rng, permutation } from './rng.js';
export { encodePng, decodePng, type RgbImage } from './png.js';
export { runCli } from './cli.js';
export { progressReporter, type ProgressFn } from './progress.js';
export {
  LeRobotDataError,
  MissingMetaFileError,
  InvalidMetaError,
  UnsupportedVersionError,
  EpisodeIndexGapError,
  MissingDataFileError,
  MissingColumnError,
  ShapeMismatchError,
  FrameIndexError,
  BadImageError,
  UnsupportedFeatureError,
  NormStatsError,
  SamplerCursorError,
  InvalidOptionError,
} from './errors.js';
