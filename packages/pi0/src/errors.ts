// Typed errors of @vla-lora/pi0; every message says what to do.

export class Pi0Error extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A config, override or data layout that does not fit the pi0 recipe (unknown name, bad --set, image size). */
export class Pi0ConfigError extends Pi0Error {}

/** A real-vocabulary config without a tokenizer, or a run dir whose tokenizer record is unreadable. */
export class TokenizerRequiredError extends Pi0Error {}

/** The run does not fit this machine's memory (the bill says what it needs); raised before any large allocation. */
export class InsufficientMemoryError extends Pi0Error {}

/**
 * The adapter (or the trained heads beside it) cannot be used: it failed verification, does not
 * fit the model built for the config, or holds nothing trained. `cause` carries the library error.
 */
export class AdapterRefusedError extends Pi0Error {}

/** No norm stats could be found, or they do not fit the model: actions would come out in wrong units. */
export class NormStatsRefusedError extends Pi0Error {}

/** The base weights are missing or do not fit the config. */
export class BaseWeightsRefusedError extends Pi0Error {}

/** The tokenizer given (or missing) is not the one the run was trained with, or not usable. */
export class TokenizerRefusedError extends Pi0Error {}
