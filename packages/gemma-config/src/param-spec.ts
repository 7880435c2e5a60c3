/** Storage dtype of a parameter as PyTorch would hold it. tfjs computes in float32 regardless. */
export type ParamDtype = 'float32' | 'bfloat16';

/**
 * One parameter tensor, described without allocating it.
 * `path` is the PyTorch dotted name (`named_parameters()` / state-dict key), `shape` is the PyTorch
 * layout (Linear weights [out, in]).
 */
export interface ParamSpec {
  path: string;
  shape: number[];
  dtype: ParamDtype;
  /**
   * Other state-dict names of this very tensor (tied weights, e.g. a tied `lm_head.weight`).
   * Counted once, under `path`, exactly as PyTorch's `named_parameters()` deduplicates them.
   */
  aliases?: string[];
}

/** Number of elements of a spec. */
export function numel(spec: Pick<ParamSpec, 'shape'>): number {
  let n = 1;
  for (const d of spec.shape) n *= d;
  return n;
}

/** Bytes per element of a storage dtype. */
export function bytesPerElement(dtype: ParamDtype | 'float16'): number {
  return dtype === 'float32' ? 4 : 2;
}
