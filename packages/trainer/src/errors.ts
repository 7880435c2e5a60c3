// Typed errors of @vla-lora/trainer; every message says what to do.

export class TrainerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** An RNG state that cannot be restored (wrong kind, malformed numbers). */
export class RngStateError extends TrainerError {}

/** A run directory that exists when it should not (or vice versa). */
export class RunDirError extends TrainerError {}

/** A checkpoint that cannot be applied to the live model/optimizer. */
export class ResumeError extends TrainerError {}

/** The loss became NaN/Inf. */
export class NonFiniteLossError extends TrainerError {}

/** A training option that is out of range. */
export class TrainerConfigError extends TrainerError {}

/** The run directory is locked by another live process (or by another host). */
export class RunLockedError extends RunDirError {}

/** Metrics output (metrics.jsonl, TensorBoard events, report.html) used out of order. */
export class MetricsError extends TrainerError {}

/**
 * A run output beside the checkpoints (metrics.jsonl, report.html) could not be written (disk
 * full, I/O error). Names the file, the step and the last good checkpoint.
 */
export class RunOutputWriteError extends TrainerError {}
