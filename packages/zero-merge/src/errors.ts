// Typed errors of @vla-lora/zero-merge. Every message names the file or value at fault and says
// what to do next.

/** Base of every error this package throws. */
export class ZeroMergeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The path given is not a DeepSpeed checkpoint (no `latest`, no tag dir, no *_states.pt files). */
export class CheckpointNotFoundError extends ZeroMergeError {}

/** Rank files are missing, extra, or inconsistent with the world size the optimizer files record. */
export class RankFilesError extends ZeroMergeError {
  constructor(
    message: string,
    readonly missing: string[],
    readonly extra: string[],
  ) {
    super(message);
  }
}

/** `partition_count` disagrees with the number of rank files (or between ranks). */
export class WorldSizeMismatchError extends RankFilesError {
  constructor(
    message: string,
    readonly expected: number,
    readonly found: number,
    missing: string[],
    extra: string[],
  ) {
    super(message, missing, extra);
  }
}

/** A ZeRO stage (or layout) this tool does not reconstruct. */
export class UnsupportedStageError extends ZeroMergeError {
  constructor(
    message: string,
    readonly stage: number | null,
  ) {
    super(message);
  }
}

/** A checkpoint layout we recognise but do not support (model parallelism, AutoEP partitions…). */
export class UnsupportedCheckpointError extends ZeroMergeError {}

/** A rank file could not be read (truncated, not a torch zip, damaged) or lacks a required key. */
export class CorruptCheckpointError extends ZeroMergeError {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The fp32 partitions do not add up to the parameter shapes (DeepSpeed's "consumed N numels out of M"). */
export class NumelMismatchError extends ZeroMergeError {
  constructor(
    message: string,
    readonly consumed: number,
    readonly available: number,
  ) {
    super(message);
  }
}

/** Bad options (dtype name, shard size, patterns, output path). */
export class ZeroMergeUsageError extends ZeroMergeError {}

/** The output exists and overwriting was not allowed. */
export class OutputExistsError extends ZeroMergeError {}

/** The checkpoint holds no LoRA tensors for the adapter asked for. */
export class NoLoraTensorsError extends ZeroMergeError {}

/** No usable adapter_config.json and not enough flags to write one, or a config that contradicts the tensors. */
export class AdapterConfigError extends ZeroMergeError {}
