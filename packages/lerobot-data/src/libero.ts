// openpi's LIBERO data pipeline on a LeRobotDataset: RepackTransform (LeRobotLiberoDataConfig keys)
// → LiberoInputs (base / left wrist / zero right wrist images, right wrist masked for pi0)
// → optional DeltaActions (mask: 6 delta dims, gripper absolute) → Normalize → pad to the model's
// action dim (32). Action chunks of `actionHorizon` (50) follow LeRobot's delta_timestamps.
import { join } from 'node:path';
import { actionChunk } from './action-chunk.js';
import type { LeRobotDataset } from './dataset.js';
import { InvalidOptionError, MissingColumnError } from './errors.js';
import type { RgbImage } from './png.js';
import { LIBERO_DELTA_MASK, deltaActions, normalize, padToDim, type NormMode, type NormStats } from './transforms.js';

/** Dataset feature names for each LIBERO input. */
export interface LiberoKeys {
  image: string;
  wristImage: string;
  state: string;
  actions: string;
}

/** openpi's LIBERO dataset (physical-intelligence/libero): image, wrist_image, state, actions. */
export const OPENPI_LIBERO_KEYS: LiberoKeys = {
  image: 'image',
  wristImage: 'wrist_image',
  state: 'state',
  actions: 'actions',
};

export interface LiberoNormStats {
  state: NormStats;
  actions: NormStats;
}

export interface LiberoOptions {
  /** Actions per chunk (openpi pi0: 50). */
  actionHorizon?: number;
  /** State and actions are zero-padded to this many dims (openpi pi0: 32). */
  modelActionDim?: number;
  /** Normalisation statistics (from computeNormStats / norm_stats.json); omit for raw values. */
  normStats?: LiberoNormStats;
  /** openpi pi0 uses z-score; pi0-FAST / pi0.5 use quantiles. */
  normMode?: NormMode;
  /** openpi's extra_delta_transform: true → LIBERO's mask (6 delta, gripper absolute), or a custom mask. */
  deltaActions?: boolean | readonly boolean[];
  /** Feature names (default openpi's LIBERO names). */
  keys?: Partial<LiberoKeys>;
}

export type CameraName = 'base_0_rgb' | 'left_wrist_0_rgb' | 'right_wrist_0_rgb';
export const CAMERAS: readonly CameraName[] = ['base_0_rgb', 'left_wrist_0_rgb', 'right_wrist_0_rgb'];

export interface LiberoSample {
  position: number;
  episodeIndex: number;
  frameIndex: number;
  prompt: string;
  /** [modelActionDim], after delta / normalisation / padding. */
  state: Float32Array;
  /** [actionHorizon × modelActionDim]. */
  actions: Float32Array;
  /** [actionHorizon]: 1 where the action repeats the episode's last one. */
  actionIsPad: Uint8Array;
  images: Record<CameraName, RgbImage>;
  /** pi0 masks the missing right wrist camera (pi0-FAST would not). */
  imageMask: Record<CameraName, boolean>;
}

export interface RawLiberoChunk {
  /** Unpadded, unnormalised state [stateDim]. */
  state: Float32Array;
  /** Unpadded, unnormalised (delta applied when configured) actions [actionHorizon × actionDim]. */
  actions: Float32Array;
  actionIsPad: Uint8Array;
}

/** One LIBERO observation as the robot (or a dataset row) gives it: raw state, RGB images, prompt. */
export interface LiberoObservation {
  /** Unnormalised state [stateDim]. */
  state: Float32Array;
  image: RgbImage;
  wristImage: RgbImage;
  prompt: string;
}

export interface LiberoInputsOptions {
  stateDim: number;
  modelActionDim: number;
  normStats?: LiberoNormStats;
  normMode?: NormMode;
}

/**
 * openpi's LiberoInputs for pi0 on one observation: the state normalised and padded to the model's
 * action dim; cameras base_0_rgb (image), left_wrist_0_rgb (wrist image), right_wrist_0_rgb zero
 * and masked. Training (LiberoView.sample) and serving both call this, so they cannot drift apart.
 * The state is not modified.
 */
export function liberoInputs(
  obs: LiberoObservation,
  opts: LiberoInputsOptions,
): Pick<LiberoSample, 'prompt' | 'state' | 'images' | 'imageMask'> {
  const normed: Float32Array = Float32Array.from(obs.state);
  if (opts.normStats) normalize(normed, opts.stateDim, opts.normStats.state, opts.normMode);
  const state = padToDim(normed, opts.stateDim, opts.modelActionDim);
  const base = obs.image;
  return {
    prompt: obs.prompt,
    state,
    images: {
      base_0_rgb: base,
      left_wrist_0_rgb: obs.wristImage,
      right_wrist_0_rgb: { height: base.height, width: base.width, data: new Uint8Array(base.data.length) },
    },
    imageMask: { base_0_rgb: true, left_wrist_0_rgb: true, right_wrist_0_rgb: false },
  };
}

/** A LIBERO view of a dataset: what openpi's data loader yields for pi0, as typed arrays. */
export class LiberoView {
  readonly keys: LiberoKeys;
  readonly actionHorizon: number;
  readonly modelActionDim: number;
  readonly stateDim: number;
  readonly actionDim: number;
  readonly deltaMask: readonly boolean[] | null;

  constructor(
    readonly dataset: LeRobotDataset,
    readonly opts: LiberoOptions = {},
  ) {
    this.keys = { ...OPENPI_LIBERO_KEYS, ...opts.keys };
    this.actionHorizon = opts.actionHorizon ?? 50;
    this.modelActionDim = opts.modelActionDim ?? 32;
    if (!Number.isInteger(this.actionHorizon) || this.actionHorizon < 1)
      throw new InvalidOptionError(`actionHorizon must be a positive integer (got ${this.actionHorizon})`);
    const infoPath = join(dataset.meta.root, 'meta', 'info.json');
    const features = Object.keys(dataset.meta.info.features);
    const vec = (key: string): number => {
      const v = dataset.kinds.vectors.find((x) => x.key === key);
      if (!v) throw new MissingColumnError(infoPath, key, features);
      return v.dim;
    };
    for (const k of [this.keys.image, this.keys.wristImage]) {
      if (!dataset.kinds.images.some((i) => i.key === k)) throw new MissingColumnError(infoPath, k, features);
    }
    this.stateDim = vec(this.keys.state);
    this.actionDim = vec(this.keys.actions);
    if (this.stateDim > this.modelActionDim || this.actionDim > this.modelActionDim) {
      throw new InvalidOptionError(
        `state (${this.stateDim}) and actions (${this.actionDim}) must fit modelActionDim=${this.modelActionDim}`,
      );
    }
    this.deltaMask =
      opts.deltaActions === true ? LIBERO_DELTA_MASK : Array.isArray(opts.deltaActions) ? opts.deltaActions : null;
    if (opts.normStats) {
      for (const [name, s, dim] of [
        ['state', opts.normStats.state, this.stateDim],
        ['actions', opts.normStats.actions, this.actionDim],
      ] as const) {
        if (s.mean.length < dim || s.std.length < dim)
          throw new InvalidOptionError(
            `norm stats "${name}" have ${s.mean.length} dims; the data has ${dim}: recompute them for this dataset`,
          );
      }
    }
  }

  get length(): number {
    return this.dataset.length;
  }

  /** State and action chunk before normalisation and padding (what openpi's compute_norm_stats sees). */
  rawChunk(position: number): RawLiberoChunk {
    const { episode, row } = this.dataset.locate(position);
    const state = Float32Array.from(this.dataset.vector(episode, this.keys.state, row));
    const acts = episode.vectors.get(this.keys.actions)!;
    const { actions, isPad } = actionChunk(acts.data, acts.dim, episode.length, row, this.actionHorizon);
    if (this.deltaMask) deltaActions(actions, this.actionDim, state, this.deltaMask);
    return { state, actions, actionIsPad: isPad };
  }

  /** One training sample, images decoded. */
  async sample(position: number): Promise<LiberoSample> {
    const { episode, row } = this.dataset.locate(position);
    const raw = this.rawChunk(position);
    const ns = this.opts.normStats;
    let actions = raw.actions;
    if (ns) normalize(actions, this.actionDim, ns.actions, this.opts.normMode);
    actions = padToDim(actions, this.actionDim, this.modelActionDim);
    const inputs = liberoInputs(
      {
        state: raw.state,
        image: await this.dataset.image(episode, this.keys.image, row),
        wristImage: await this.dataset.image(episode, this.keys.wristImage, row),
        prompt: this.dataset.task(episode.taskIndex[row]!),
      },
      {
        stateDim: this.stateDim,
        modelActionDim: this.modelActionDim,
        ...(ns ? { normStats: ns } : {}),
        ...(this.opts.normMode ? { normMode: this.opts.normMode } : {}),
      },
    );
    return {
      position,
      episodeIndex: episode.episodeIndex,
      frameIndex: row,
      ...inputs,
      actions,
      actionIsPad: raw.actionIsPad,
    };
  }

  /** Samples at `positions`, stacked. */
  async batch(positions: readonly number[]): Promise<LiberoBatch> {
    const samples: LiberoSample[] = [];
    for (const p of positions) samples.push(await this.sample(p));
    return collateLibero(samples);
  }
}

export interface LiberoBatch {
  size: number;
  positions: number[];
  prompts: string[];
  /** [B × modelActionDim]. */
  state: Float32Array;
  /** [B × horizon × modelActionDim]. */
  actions: Float32Array;
  /** [B × horizon]. */
  actionIsPad: Uint8Array;
  height: number;
  width: number;
  /** Each [B × H × W × 3] uint8. */
  images: Record<CameraName, Uint8Array>;
  /** Each [B], 1 = real camera. */
  imageMask: Record<CameraName, Uint8Array>;
}

/** Stacks samples (all the same shapes) into contiguous batch arrays. */
export function collateLibero(samples: readonly LiberoSample[]): LiberoBatch {
  const first = samples[0];
  if (!first) throw new InvalidOptionError('cannot collate an empty batch');
  const b = samples.length;
  const { height, width } = first.images.base_0_rgb;
  const px = height * width * 3;
  const out: LiberoBatch = {
    size: b,
    positions: samples.map((s) => s.position),
    prompts: samples.map((s) => s.prompt),
    state: new Float32Array(b * first.state.length),
    actions: new Float32Array(b * first.actions.length),
    actionIsPad: new Uint8Array(b * first.actionIsPad.length),
    height,
    width,
    images: {
      base_0_rgb: new Uint8Array(b * px),
      left_wrist_0_rgb: new Uint8Array(b * px),
      right_wrist_0_rgb: new Uint8Array(b * px),
    },
    imageMask: {
      base_0_rgb: new Uint8Array(b),
      left_wrist_0_rgb: new Uint8Array(b),
      right_wrist_0_rgb: new Uint8Array(b),
    },
  };
  samples.forEach((s, i) => {
    out.state.set(s.state, i * first.state.length);
    out.actions.set(s.actions, i * first.actions.length);
    out.actionIsPad.set(s.actionIsPad, i * first.actionIsPad.length);
    for (const cam of CAMERAS) {
      const img = s.images[cam];
      if (img.height !== height || img.width !== width)
        throw new InvalidOptionError(
          `image ${cam} of sample ${i} is ${img.height}x${img.width}, batch is ${height}x${width}`,
        );
      out.images[cam].set(img.data, i * px);
      out.imageMask[cam][i] = s.imageMask[cam] ? 1 : 0;
    }
  });
  return out;
}
