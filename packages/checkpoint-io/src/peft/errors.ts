import { CheckpointIoError } from '../errors.js';

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

/** An adapter handed to savePeftAdapter that cannot be saved as PEFT would (empty, bad keys, bad tensors). */
export class AdapterSaveError extends PeftAdapterError {}
