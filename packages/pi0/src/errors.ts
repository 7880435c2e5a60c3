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
