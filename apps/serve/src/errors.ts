// Typed errors of apps/serve. Each message says what is wrong and what to do; the CLI prints it as
// one line and exits non-zero. Loading refusals are @vla-lora/pi0's (AdapterRefusedError,
// BaseWeightsRefusedError, NormStatsRefusedError, TokenizerRefusedError, re-exported by index.ts).

/** Base of every vla-serve error. */
export class ServeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command line (unknown config, missing flag, bad number). Exit code 2. */
export class ServeUsageError extends ServeError {}
