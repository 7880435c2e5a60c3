// openpi's per-sample transforms on plain typed arrays: DeltaActions / AbsoluteActions (with a mask),
// Normalize / Unnormalize (z-score or quantile), pad_to_dim.

/** openpi's make_bool_mask: positive n → n trues, negative n → |n| falses. make_bool_mask(6, -1) → 6 true, 1 false. */
export function makeBoolMask(...dims: number[]): boolean[] {
  const out: boolean[] = [];
  for (const d of dims) for (let i = 0; i < Math.abs(d); i++) out.push(d > 0);
  return out;
}

/** LIBERO's delta mask in openpi: the first 6 dims (xyz, rotation) relative to the state, the gripper absolute. */
export const LIBERO_DELTA_MASK: readonly boolean[] = makeBoolMask(6, -1);

/** actions[k, d] -= state[d] where mask[d] (in place; rows of `dim`). */
export function deltaActions(
  actions: Float32Array,
  dim: number,
  state: Float32Array,
  mask: readonly boolean[],
): Float32Array {
  applyMasked(actions, dim, state, mask, -1);
  return actions;
}

/** actions[k, d] += state[d] where mask[d] (in place): the inverse of deltaActions. */
export function absoluteActions(
  actions: Float32Array,
  dim: number,
  state: Float32Array,
  mask: readonly boolean[],
): Float32Array {
  applyMasked(actions, dim, state, mask, 1);
  return actions;
}

function applyMasked(
  actions: Float32Array,
  dim: number,
  state: Float32Array,
  mask: readonly boolean[],
  sign: 1 | -1,
): void {
  const n = Math.min(mask.length, dim);
  if (state.length < n) throw new RangeError(`delta mask covers ${n} dims but the state has ${state.length}`);
  for (let r = 0; r < actions.length / dim; r++) {
    for (let d = 0; d < n; d++) if (mask[d]) actions[r * dim + d] = actions[r * dim + d]! + sign * state[d]!;
  }
}

/** openpi NormStats: per-dimension vectors (q01/q99 optional there; always written here). */
export interface NormStats {
  mean: Float64Array | number[];
  std: Float64Array | number[];
  q01?: Float64Array | number[];
  q99?: Float64Array | number[];
}

export type NormMode = 'zscore' | 'quantile';

/**
 * openpi Normalize on rows of `dim` (in place). z-score: (x - mean) / (std + 1e-6); quantile:
 * (x - q01) / (q99 - q01 + 1e-6) * 2 - 1. Stats may be longer than `dim` (openpi slices them).
 */
export function normalize(x: Float32Array, dim: number, stats: NormStats, mode: NormMode = 'zscore'): Float32Array {
  const n = Math.min(dim, stats.mean.length);
  if (stats.mean.length < dim)
    throw new RangeError(`norm stats have ${stats.mean.length} dims but the data has ${dim}`);
  if (mode === 'quantile') {
    const { q01, q99 } = stats;
    if (!q01 || !q99) throw new RangeError('quantile normalisation needs q01 and q99 in the norm stats');
    for (let i = 0; i < x.length; i++) {
      const d = i % dim;
      if (d < n) x[i] = ((x[i]! - q01[d]!) / (q99[d]! - q01[d]! + 1e-6)) * 2 - 1;
    }
  } else {
    for (let i = 0; i < x.length; i++) {
      const d = i % dim;
      if (d < n) x[i] = (x[i]! - stats.mean[d]!) / (stats.std[d]! + 1e-6);
    }
  }
  return x;
}

/**
 * openpi Unnormalize on rows of `dim` (in place). Dims beyond the stats (model padding) are left as
 * they are for quantile mode and mapped with mean 0 / std 1 for z-score, as openpi does.
 */
export function unnormalize(x: Float32Array, dim: number, stats: NormStats, mode: NormMode = 'zscore'): Float32Array {
  const n = Math.min(dim, stats.mean.length);
  for (let i = 0; i < x.length; i++) {
    const d = i % dim;
    if (d >= n) {
      if (mode === 'zscore') x[i] = x[i]! * (1 + 1e-6);
      continue;
    }
    if (mode === 'quantile') {
      const { q01, q99 } = stats;
      if (!q01 || !q99) throw new RangeError('quantile unnormalisation needs q01 and q99 in the norm stats');
      x[i] = ((x[i]! + 1) / 2) * (q99[d]! - q01[d]! + 1e-6) + q01[d]!;
    } else {
      x[i] = x[i]! * (stats.std[d]! + 1e-6) + stats.mean[d]!;
    }
  }
  return x;
}

/** openpi pad_to_dim on rows: [rows × dim] → [rows × target], zeros after (no-op copy when dim ≥ target). */
export function padToDim(x: Float32Array, dim: number, target: number): Float32Array {
  if (dim >= target) return x;
  const rows = x.length / dim;
  const out = new Float32Array(rows * target);
  for (let r = 0; r < rows; r++) out.set(x.subarray(r * dim, (r + 1) * dim), r * target);
  return out;
}
