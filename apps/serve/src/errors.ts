// Typed errors of apps/serve. Each message says what is wrong and what to do; the CLI prints it as
// one line and exits non-zero. Nothing here is ever caught to keep serving something unverified.

/** Base of every vla-serve error. */
export class ServeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line (unknown config, missing flag, bad number). Exit code 2. */
export class ServeUsageError extends ServeError {}

/**
 * The adapter (or the trained heads beside it) cannot be served: it failed verification, does not
 * fit the model built for the config, or holds nothing trained. `cause` carries the library error.
 */
export class AdapterRefusedError extends ServeError {}

/** No norm stats could be found, or they do not fit the model: serving would emit wrong units. */
export class NormStatsRefusedError extends ServeError {}

/** The base weights are missing or do not fit the config. */
export class BaseWeightsRefusedError extends ServeError {}

/** The tokenizer given (or missing) is not the one the run was trained with, or not usable. */
export class TokenizerRefusedError extends ServeError {}
