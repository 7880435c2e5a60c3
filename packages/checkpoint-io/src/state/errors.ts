import { CheckpointIoError } from '../errors.js';

/** Base class of every resumable-state error. */
export class TrainingStateError extends CheckpointIoError {}

/** No checkpoint to resume from (no `latest` pointer and no complete step directory). */
export class NoCheckpointError extends TrainingStateError {}

/** `latest` is malformed or names a checkpoint directory that does not exist. */
export class CheckpointPointerError extends TrainingStateError {}

/** A checkpoint directory lacks files its manifest (or the layout) requires; the message names them. */
export class CheckpointIncompleteError extends TrainingStateError {
  constructor(
    message: string,
    readonly missing: string[],
  ) {
    super(message);
  }
}

/** trainer_state.json is unreadable, of an unknown format version, or lacks a usable global step. */
export class TrainerStateInvalidError extends TrainingStateError {}

/** The checkpoint was written for a different training config (its sha256 differs). */
export class ConfigMismatchError extends TrainingStateError {
  constructor(
    message: string,
    readonly savedHash: string,
    readonly currentHash: string,
    readonly differingKeys: string[],
  ) {
    super(message);
  }
}

/** Optimizer moments do not line up with the parameters they belong to. */
export class OptimizerStateError extends TrainingStateError {}

/**
 * A checkpoint could not be written (disk full, quota, I/O error). Names the file being written,
 * the step, and the last good checkpoint, which is untouched: `latest` still names it.
 */
export class CheckpointWriteError extends TrainingStateError {
  constructor(
    message: string,
    /** The piece being written (e.g. `optimizer.safetensors`, `latest`), relative to the step dir. */
    readonly file: string,
    readonly step: number,
    /** Absolute path of the checkpoint `latest` still names, or null if there is none yet. */
    readonly lastGood: string | null,
    /** The errno code (`ENOSPC`, `EDQUOT`, `EIO` …) when there is one. */
    readonly code: string | null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
