import { CheckpointIoError } from '../errors.js';
import type { AdapterFitReport } from './base-fit.js';

/** Base of every PEFT adapter error; `dir` is the adapter directory. */
export class PeftAdapterError extends CheckpointIoError {
  constructor(
    readonly dir: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** adapter_config.json is missing, not JSON, or lacks what a LoRA config needs. */
export class AdapterConfigError extends PeftAdapterError {}

/** Neither adapter_model.safetensors nor adapter_model.bin is in the directory. */
export class AdapterWeightsMissingError extends PeftAdapterError {}

/**
 * The weights file holds no tensors (e.g. the 40-byte file a trainer leaves under DeepSpeed
 * ZeRO-3). `zeroDir` is the global_step directory found beside it, if any.
 */
export class AdapterPlaceholderError extends PeftAdapterError {
  constructor(
    dir: string,
    message: string,
    readonly zeroDir: string | null,
  ) {
    super(dir, message);
  }
}

/** Tensors with zero elements (ZeRO-3 partition placeholders saved as if they were weights). */
export class AdapterEmptyTensorError extends PeftAdapterError {
  constructor(
    dir: string,
    message: string,
    readonly tensors: string[],
  ) {
    super(dir, message);
  }
}

/** lora_A without lora_B (or the reverse) for a module. */
export class AdapterUnpairedError extends PeftAdapterError {
  constructor(
    dir: string,
    message: string,
    readonly modules: string[],
  ) {
    super(dir, message);
  }
}

/** A module's A/B rank disagrees with the config's r / rank_pattern, or A and B disagree. */
export class AdapterRankMismatchError extends PeftAdapterError {
  constructor(
    dir: string,
    message: string,
    readonly mismatches: Array<{ module: string; expected: number; rankA: number; rankB: number }>,
  ) {
    super(dir, message);
  }
}

/** NaN or Inf values in LoRA tensors. */
export class AdapterNonFiniteError extends PeftAdapterError {
  constructor(
    dir: string,
    message: string,
    readonly tensors: Array<{ name: string; nan: number; inf: number }>,
  ) {
    super(dir, message);
  }
}

/** target_modules of the config that no LoRA weight in the file belongs to. */
export class AdapterMissingTargetsError extends PeftAdapterError {
  constructor(
    dir: string,
    message: string,
    readonly targets: string[],
  ) {
    super(dir, message);
  }
}

/**
 * LoRA weights on modules the config does not target under PEFT's rules (exclude_modules,
 * modules_to_save, layers_to_transform / layers_pattern, target_modules): PEFT would not wrap them
 * and loading would drop the weights.
 */
export class AdapterUntargetedError extends PeftAdapterError {
  constructor(
    dir: string,
    message: string,
    readonly modules: Array<{ module: string; reason: string }>,
  ) {
    super(dir, message);
  }
}

/**
 * The adapter does not fit a base checkpoint: modules the base lacks, targeted base modules without
 * weights, lora_A / lora_B shapes that disagree with the base weight, ranks that disagree with the
 * config. `report` holds every finding.
 */
export class AdapterBaseMismatchError extends PeftAdapterError {
  constructor(
    dir: string,
    message: string,
    readonly report: AdapterFitReport,
  ) {
    super(dir, message);
  }
}

/** An adapter handed to savePeftAdapter that cannot be saved as PEFT would (empty, bad keys, bad tensors). */
export class AdapterSaveError extends PeftAdapterError {}

/**
 * A PEFT rule field (target_modules, exclude_modules, layers_to_transform, layers_pattern,
 * modules_to_save, rank_pattern, alpha_pattern) has a value PEFT would reject or we cannot apply
 * exactly as PEFT does. `field` names it.
 */
export class PeftRuleError extends CheckpointIoError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}

/** A rule field holds a regex that Python's `re` rejects or that cannot be translated to JS exactly. */
export class PeftRegexError extends PeftRuleError {
  constructor(
    field: string,
    /** The pattern as written. */
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(
      field,
      `${field} ${JSON.stringify(pattern)} is not a usable regular expression: ${reason}. PEFT matches it with Python's re; write it with plain syntax (literals, ., [classes], groups, |, * + ? {m,n}, \\d \\w) or use a list of module names`,
    );
  }
}
