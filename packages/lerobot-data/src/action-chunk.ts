// Action chunks as openpi gets them from LeRobot's delta_timestamps for its action_sequence_keys:
// rows t .. t+H-1 of the episode, indices past the episode's end clamped to its last frame (the last
// action repeats) and flagged in `isPad` (LeRobot's "<key>_is_pad").

export interface ActionChunk {
  /** [horizon × dim], row-major. */
  actions: Float32Array;
  /** 1 where the row repeats the episode's last action because the episode ended. */
  isPad: Uint8Array;
}

/** Slices a chunk of `horizon` rows starting at `row` from an episode's flat [length × dim] values. */
export function actionChunk(
  values: Float32Array,
  dim: number,
  length: number,
  row: number,
  horizon: number,
): ActionChunk {
  if (!(horizon >= 1) || !Number.isInteger(horizon))
    throw new RangeError(`action horizon must be a positive integer (got ${horizon})`);
  if (row < 0 || row >= length) throw new RangeError(`row ${row} is outside the episode (length ${length})`);
  const actions = new Float32Array(horizon * dim);
  const isPad = new Uint8Array(horizon);
  for (let k = 0; k < horizon; k++) {
    const src = row + k;
    const clamped = src < length ? src : length - 1;
    isPad[k] = src < length ? 0 : 1;
    actions.set(values.subarray(clamped * dim, clamped * dim + dim), k * dim);
  }
  return { actions, isPad };
}
