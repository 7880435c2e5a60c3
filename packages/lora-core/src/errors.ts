// Typed errors of @vla-lora/lora-core. Each message says what went wrong and what to do.

/** Base of every lora-core error. */
export class LoraCoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A dotted module path does not exist in the tree, or a child name is invalid. */
export class ModulePathError extends LoraCoreError {}

/** A streamed (file-backed) parameter was read outside `withStreamedWeights`. */
export class WeightNotResidentError extends LoraCoreError {}

/** A tensor or Float32Array has the wrong shape or length for the parameter it is loaded into. */
export class ShapeMismatchError extends LoraCoreError {}

/** A LoRA config is invalid (r <= 0, bad dropout, unsupported option) — fix the config. */
export class LoraConfigError extends LoraCoreError {}

/**
 * `injectLora` matched nothing, or some target pattern matched no module. PEFT raises for the
 * first; we also raise for the second because a typo in one target silently trains nothing there.
 */
export class TargetNotFoundError extends LoraCoreError {
  constructor(
    message: string,
    /** The target keys (or the regex) that matched no module. */
    readonly unmatched: string[],
  ) {
    super(message);
  }
}

/** A matched target module is not a Linear (PEFT would say "Target module X is not supported"). */
export class UnsupportedTargetError extends LoraCoreError {}

/** merge/unmerge called in the wrong state, or a merge produced non-finite weights. */
export class MergeError extends LoraCoreError {}

/**
 * Loading an adapter found keys the model does not have (unexpected), LoRA parameters the
 * adapter does not provide (missing), or shape mismatches. Lists every name.
 */
export class AdapterMismatchError extends LoraCoreError {
  constructor(
    message: string,
    readonly missing: string[],
    readonly unexpected: string[],
    readonly shapeMismatches: Array<{ name: string; expected: number[]; got: number[] }>,
  ) {
    super(message);
  }
}

/**
 * A tensor is larger than the active backend can hold in one buffer (WebGPU: the adapter's
 * maxStorageBufferBindingSize / maxBufferSize). Refused before anything is allocated.
 */
export class BufferTooLargeError extends LoraCoreError {
  constructor(
    message: string,
    /** The parameter (or tensor) name. */
    readonly tensorName: string,
    /** Its size in bytes. */
    readonly bytes: number,
    /** The limit it exceeds, in bytes. */
    readonly limitBytes: number,
  ) {
    super(message);
  }
}
