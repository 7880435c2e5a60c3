import { CheckpointIoError } from '../errors.js';

/** A CLI argument or input the command cannot use. */
export class CliUsageError extends CheckpointIoError {}

/** `diff` found differences beyond the tolerance (or different tensor sets). */
export class TensorsDifferError extends CheckpointIoError {}
