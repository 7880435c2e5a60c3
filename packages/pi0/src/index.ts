// Public API of @vla-lora/pi0: the pi0 LoRA recipe (configs, plan, build, data, train, eval, export)
// and the served-policy pipeline (LIBERO request -> normalise -> batch -> sample -> unnormalise).
export * from './errors.js';
export * from './config/index.js';
export * from './plan/index.js';
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
export { WordHashTokenizer, SentencePiecePromptTokenizer, cleanPrompt } from './prompt-tokenizer.js';
export type { PromptTokenizer, TokenizedPrompts } from './prompt-tokenizer.js';
export {
  choosePromptTokenizer,
  readTokenizerRecord,
  TOKENIZER_RECORD_FILE,
  tokenizerForRun,
  writeTokenizerRecord,
} from './tokenizer-choice.js';
export type { ChosenTokenizer, TokenizerRecord } from './tokenizer-choice.js';
export { toPi0Batch, disposePi0Batch } from './batch.js';
export { Pi0DataSource } from './data-source.js';
export { exportTrainedWeights } from './export.js';
export type { AdapterReport, ExportedWeights } from './export.js';
export { ensureBackend } from './backend.js';
export { pi0UnusedByDesign } from './unused.js';
export { freezeWithPolicy, preflight } from './freeze-and-preflight.js';
export type { FreezeResult } from './freeze-and-preflight.js';
export { checkAdapterFit, describeAdapterFit } from './adapter-fit.js';
export { remapPi0AdapterLayout } from './adapter-layout.js';
export { planPi0Adapter } from './adapter-config.js';
export type { Pi0AdapterPlan } from './adapter-config.js';
export type { AdapterFit, LoraScalingOf } from './adapter-fit.js';
export { LIBERO_REQUEST_KEYS, parseLiberoRequest } from './libero-request.js';
export type { LiberoRequest, RequestShape } from './libero-request.js';
export { noiseFor, ServedPi0 } from './served-policy.js';
export type { ServedPi0Options, ServedSummary } from './served-policy.js';
export { loadTrainedPi0 } from './load-trained.js';
export type { LoadedTrainedPi0, LoadSummary, LoadTrainedPi0Options } from './load-trained.js';
export { describeTrainAndEvaluate, describeTrainRun, trainAndEvaluatePi0 } from './train-and-evaluate.js';
export type { TrainAndEvaluateOptions, TrainAndEvaluateResult } from './train-and-evaluate.js';
