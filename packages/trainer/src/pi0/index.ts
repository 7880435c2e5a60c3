export { trainPi0, pi0Loss } from './train.js';
export type { TrainPi0Options, TrainPi0Result } from './train.js';
export { evaluatePi0Run, scorePolicy, evalPositions } from './eval.js';
export type { EvalResult, EvaluateOptions, PolicyScore } from './eval.js';
export { buildPi0 } from './build.js';
export type { BuiltPi0 } from './build.js';
export {
  ensureDataset,
  computeNormStatsForConfig,
  loadNormStatsFor,
  openView,
  datasetRoot,
  normStatsPath,
} from './dataset.js';
export type { EnsuredDataset } from './dataset.js';
export { WordHashTokenizer, cleanPrompt } from './prompt-tokenizer.js';
export { toPi0Batch, disposePi0Batch } from './batch.js';
export { Pi0DataSource } from './data-source.js';
export { exportTrainedWeights } from './export.js';
export { ensureBackend } from './backend.js';
