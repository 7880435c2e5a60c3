export {
  createProgress,
  type Progress,
  type ProgressFields,
  type ProgressLine,
  type ProgressOptions,
  type TensorProgressEvent,
  tensorProgress,
} from './progress.js';
export {
  DEFAULT_EXIT_CODES,
  EXIT_CODES,
  type ErrorClass,
  errorText,
  exitCodeFor,
  type RunMainOptions,
  runMain,
  runProgram,
} from './run-main.js';
export { collect, intInRange, type MessageError, positiveInt, positiveNumber } from './options.js';
export { UsageError } from './errors.js';
export { type CapturableProgram, captureParse, type ParseOutcome } from './parse.js';
