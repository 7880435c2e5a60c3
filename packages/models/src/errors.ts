// Typed errors of @vla-lora/models. Each message says what went wrong and what to do.

/** Base of every error this package throws. */
export class ModelsError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A model config (transformers `config.json`, pi0 config) is missing a field or is inconsistent. */
export class ModelConfigError extends ModelsError {}

/** An input tensor has the wrong rank, shape or dtype for the model. */
export class InputShapeError extends ModelsError {}

/**
 * The parameter specs and the module tree disagree: a module asked for a parameter the specs do not
 * declare, with another shape, or a spec was never used. Specs are the one source of truth; fix the
 * spec generator (gemma-config) or the model code, never one side alone.
 */
export class SpecMismatchError extends ModelsError {}

/**
 * A weights file does not match the model: missing keys, unexpected keys, or wrong shapes. Nothing is
 * loaded half-way silently; the message lists the offending names.
 */
export class WeightsMismatchError extends ModelsError {
  constructor(
    message: string,
    readonly missing: string[] = [],
    readonly unexpected: string[] = [],
    readonly wrongShape: string[] = [],
  ) {
    super(message);
  }
}

/** A weights file whose keys cannot be mapped to one pi0 layout (two keys land on the same parameter). */
export class WeightsLayoutError extends ModelsError {}

/**
 * A weights file to stream from does not fit the model, found from its header alone (before any
 * tensor data is read): a missing or unexpected tensor, a wrong shape, or a non-float dtype.
 */
export class StreamedWeightsError extends ModelsError {
  constructor(
    message: string,
    /** The tensor names at fault. */
    readonly tensors: string[] = [],
  ) {
    super(message);
  }
}

/** A model would not fit the memory it may use; the message carries the bill. Nothing was allocated. */
export class ModelMemoryError extends ModelsError {
  constructor(
    message: string,
    readonly neededBytes: number,
    readonly budgetBytes: number,
  ) {
    super(message);
  }
}
