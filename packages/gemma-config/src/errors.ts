/** Base class of every error this package throws. */
export class GemmaConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An unknown Gemma or pi0 variant name was asked for. */
export class UnknownVariantError extends GemmaConfigError {
  constructor(kind: string, name: string, known: readonly string[]) {
    super(`Unknown ${kind} variant "${name}". Use one of: ${known.join(', ')}.`);
  }
}

/** A configuration is internally inconsistent (e.g. experts that cannot share attention). */
export class InvalidConfigError extends GemmaConfigError {}

/** Two specs claim the same parameter path. */
export class DuplicateParamError extends GemmaConfigError {
  constructor(path: string) {
    super(
      `Parameter "${path}" is declared twice; every ParamSpec path must be unique. Fix the spec generator or the LoRA targets.`,
    );
  }
}
