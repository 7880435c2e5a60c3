// Typed errors of @vla-lora/cli-kit.

/** A command line the CLI cannot use; the message says what to type instead. runMain exits 2 on it. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UsageError';
  }
}
