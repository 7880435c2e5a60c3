// Typed errors of @vla-lora/dcp-merge. Every message names the file or value at fault and says what to do next.

/** Base of every error this package throws. */
export class DcpMergeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The path is not a distributed checkpoint directory (no `.metadata`). */
export class DcpNotFoundError extends DcpMergeError {}

/** `.metadata` is not a pickled DCP `Metadata` (wrong shape, bad field, truncated pickle). */
export class DcpMetadataError extends DcpMergeError {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `.metadata` names a Python global outside the DCP allow-list (e.g. `os.system`): refused, nothing was called. */
export class DcpUnsafePickleError extends DcpMetadataError {
  constructor(
    message: string,
    file: string,
    readonly global: string,
  ) {
    super(message, file);
  }
}

/** A storage entry uses a stream transform (`transform_descriptors`, e.g. compression) or a serialization
 * format this reader does not implement. */
export class DcpUnsupportedTransformError extends DcpMergeError {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/** A `.distcp` file that `.metadata` references is missing. */
export class DcpMissingFileError extends DcpMergeError {
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/** A chunk is truncated or corrupt (its byte range runs past the file, its torch.save blob is damaged, its
 * dtype or shape disagrees with `.metadata`). */
export class DcpChunkError extends DcpMergeError {
  constructor(
    message: string,
    readonly file: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A tensor's chunks do not tile it exactly: overlaps, gaps, or chunks outside the tensor. */
export class DcpLayoutError extends DcpMergeError {
  constructor(
    message: string,
    readonly file: string,
    readonly tensor: string,
  ) {
    super(message);
  }
}

/** The output exists and `overwrite` was not given. */
export class DcpOutputExistsError extends DcpMergeError {}

/** Bad option values (CLI flags or library options). */
export class DcpUsageError extends DcpMergeError {}

/** extract-adapter found no LoRA tensors, or no usable adapter config. */
export class DcpNoLoraError extends DcpMergeError {}
