// Typed errors of @vla-lora/pi0; every message says what to do.

export class Pi0Error extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A config, override or data layout that does not fit the pi0 recipe (unknown name, bad --set, image size). */
export class Pi0ConfigError extends Pi0Error {}
