import { DuplicateParamError } from './errors.js';
import { bytesPerElement, numel, type ParamSpec } from './param-spec.js';
import { isLoraPath } from './path-segments.js';

export type TrainablePredicate = (spec: ParamSpec) => boolean;

export interface ParamCounts {
  /** Elements of all parameters (tied aliases counted once, as PyTorch's named_parameters()). */
  total: number;
  trainable: number;
  frozen: number;
  /** 100 * trainable / total (0 for an empty list). */
  trainablePercent: number;
  tensors: number;
  trainableTensors: number;
  /** Tensors with a lora_A / lora_B segment, and their elements. */
  loraTensors: number;
  loraParams: number;
  /** Storage bytes at each spec's dtype. */
  bytes: number;
}

/** Checks that paths (and aliases) are unique; throws DuplicateParamError. */
export function assertUniquePaths(specs: readonly ParamSpec[]): void {
  const seen = new Set<string>();
  for (const s of specs) {
    for (const p of [s.path, ...(s.aliases ?? [])]) {
      if (seen.has(p)) throw new DuplicateParamError(p);
      seen.add(p);
    }
  }
}

/**
 * Count parameters from specs. Default `isTrainable`: PEFT's default after wrapping (only LoRA
 * tensors trainable); pass a freeze policy's predicate for anything else.
 */
export function countParams(
  specs: readonly ParamSpec[],
  isTrainable: TrainablePredicate = (s) => isLoraPath(s.path),
): ParamCounts {
  assertUniquePaths(specs);
  let total = 0;
  let trainable = 0;
  let trainableTensors = 0;
  let loraTensors = 0;
  let loraParams = 0;
  let bytes = 0;
  for (const s of specs) {
    const n = numel(s);
    total += n;
    bytes += n * bytesPerElement(s.dtype);
    if (isTrainable(s)) {
      trainable += n;
      trainableTensors += 1;
    }
    if (isLoraPath(s.path)) {
      loraTensors += 1;
      loraParams += n;
    }
  }
  return {
    total,
    trainable,
    frozen: total - trainable,
    trainablePercent: total === 0 ? 0 : (100 * trainable) / total,
    tensors: specs.length,
    trainableTensors,
    loraTensors,
    loraParams,
    bytes,
  };
}

/** Sum of elements of the specs for which `select` holds. */
export function sumParams(specs: readonly ParamSpec[], select: TrainablePredicate = () => true): number {
  let n = 0;
  for (const s of specs) if (select(s)) n += numel(s);
  return n;
}
