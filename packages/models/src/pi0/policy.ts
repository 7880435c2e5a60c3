// openpi's PI0Pytorch on tfjs: prefix (images + prompt) and suffix (state + noisy actions + time),
// flow-matching loss for training and a 10-step Euler sampler with a prefix KV cache for inference.
import * as tf from '@tensorflow/tfjs-core';
import {
  pi0ParamSpecs,
  pi0Variants,
  PI0_PATHS,
  siglipNumTokens,
  type Pi0Config,
  type ParamSpec,
} from '@vla-lora/gemma-config';
import {
  ModuleBase,
  namedParameters,
  namedStreamedParameters,
  type Linear,
  type LinearLike,
} from '@vla-lora/lora-core';
import { InputShapeError, ModelConfigError } from '../errors.js';
import { GemmaModel, type GemmaStackConfig } from '../gemma/gemma-model.js';
import { silu } from '../ops/activations.js';
import { additiveMask, concatKeys, makeAtt2dMasks, positionsFromPadding, type BoolMask2d } from '../ops/masks.js';
import { ropeTables, type RopeTables } from '../ops/rope.js';
import { SpecBook, type InitMode, type StreamPlan } from '../params/spec-book.js';
import type { RandomSource } from '../rng/random-source.js';
import { SiglipVisionModel } from '../siglip/siglip.js';
import { eulerSample, flowMatchingLoss, flowMatchingPair, sampleFlowTime, sampleNoise } from './flow-matching.js';
import { PaliGemmaWithExpert } from './paligemma-with-expert.js';
import { sincosTimeEmbedding } from './time-embedding.js';

/** What the policy sees (openpi's Observation after preprocessing). */
export interface Pi0Observation {
  /** One [B, H, W, 3] float32 tensor in [-1, 1] per camera, in the order of `config.imageKeys`. */
  images: tf.Tensor[];
  /** Per camera, per batch row: whether that image is real (false: padded, masked out). */
  imageMasks: ArrayLike<boolean | number>[];
  /** Prompt token ids, int32 [B, L]. */
  tokens: tf.Tensor;
  /** Per batch row, per token: whether the token is real. */
  tokenMasks: ArrayLike<boolean | number>[];
  /** Robot state padded to actionDim: [B, actionDim]. */
  state: tf.Tensor;
}

/** A training example batch: the observation plus the target action chunk [B, horizon, actionDim]. */
export interface Pi0Batch extends Pi0Observation {
  actions: tf.Tensor;
}

export interface Pi0CreateOptions {
  /** Parameter specs (default: gemma-config's `pi0ParamSpecs(config)`); LoRA specs are left to injectLora. */
  specs?: readonly ParamSpec[];
  /** 'zeros' (default, for loading weights next) or 'random' (needs `rng`). */
  init?: InitMode;
  rng?: RandomSource;
  /** RMSNorm eps of both Gemma stacks (transformers' default 1e-6). */
  rmsNormEps?: number;
  /** RoPE theta (transformers' Gemma default 10000). */
  ropeTheta?: number;
  /** Frozen parameters kept outside the backend (see `openStreamedPi0`, which sets this up). */
  stream?: StreamPlan;
}

export interface Pi0SampleOptions {
  /** Euler steps (openpi: 10). */
  numSteps?: number;
  /** Start noise [B, horizon, actionDim]; default drawn from `rng`. */
  noise?: tf.Tensor;
}

export class Pi0Policy extends ModuleBase {
  readonly actionDim: number;
  readonly actionHorizon: number;

  constructor(
    readonly config: Pi0Config,
    pwe: PaliGemmaWithExpert,
    heads: { actionIn: Linear; actionOut: Linear; stateProj: Linear; timeIn: Linear; timeOut: Linear },
  ) {
    super();
    this.registerChild('paligemma_with_expert', pwe);
    this.registerChild('action_in_proj', heads.actionIn);
    this.registerChild('action_out_proj', heads.actionOut);
    this.registerChild('state_proj', heads.stateProj);
    this.registerChild('action_time_mlp_in', heads.timeIn);
    this.registerChild('action_time_mlp_out', heads.timeOut);
    this.actionDim = config.actionDim;
    this.actionHorizon = config.actionHorizon;
  }

  /** Allocates pi0 from its parameter specs (gemma-config's pi0ParamSpecs: the one source of truth). */
  static create(config: Pi0Config, opts: Pi0CreateOptions = {}): Pi0Policy {
    const { paligemma, expert } = pi0Variants(config);
    const book = new SpecBook(opts.specs ?? pi0ParamSpecs(config), {
      init: opts.init ?? 'zeros',
      ...(opts.rng ? { rng: opts.rng } : {}),
      ...(opts.stream ? { stream: opts.stream } : {}),
    });
    const stack = (v: typeof paligemma): GemmaStackConfig => ({
      numLayers: v.depth,
      numHeads: v.numHeads,
      numKvHeads: v.numKvHeads,
      headDim: v.headDim,
      rmsNormEps: opts.rmsNormEps ?? 1e-6,
      ropeTheta: opts.ropeTheta ?? 10000,
      attnScale: Math.pow(v.headDim, -0.5),
    });
    const vision = new SiglipVisionModel(config.siglip, book, `${PI0_PATHS.visionTower}.`);
    const projector = book.linear(`${PI0_PATHS.projector}.linear`, {
      inFeatures: config.siglip.hiddenSize,
      outFeatures: paligemma.width,
    });
    const lm = GemmaModel.fromSpecs(book, `${PI0_PATHS.languageModel}.`, stack(paligemma), { embedTokens: true });
    const ex = GemmaModel.fromSpecs(book, `${PI0_PATHS.expertModel}.`, stack(expert), { embedTokens: false });
    const expertHead = book.linear(PI0_PATHS.expertLmHead, { inFeatures: expert.width });
    const w = expert.width;
    const a = config.actionDim;
    const heads = {
      actionIn: book.linear('action_in_proj', { inFeatures: a, outFeatures: w }),
      actionOut: book.linear('action_out_proj', { inFeatures: w, outFeatures: a }),
      stateProj: book.linear('state_proj', { inFeatures: a, outFeatures: w }),
      timeIn: book.linear('action_time_mlp_in', { inFeatures: 2 * w, outFeatures: w }),
      timeOut: book.linear('action_time_mlp_out', { inFeatures: w, outFeatures: w }),
    };
    book.finish();
    return new Pi0Policy(config, new PaliGemmaWithExpert(vision, projector, lm, ex, expertHead), heads);
  }

  /**
   * Activation checkpointing for every SigLIP layer and every joint Gemma layer (openpi remats each
   * block): backward recomputes a layer from its input instead of keeping its activations. Gradients
   * equal the plain path's; memory between forward and backward drops to the layer inputs.
   */
  setGradientCheckpointing(on: boolean): void {
    if (!on && namedStreamedParameters(this).length > 0)
      throw new ModelConfigError(
        'this policy streams its frozen weights from a file: they exist only while a block runs, so backward must recompute each block; gradient checkpointing stays on',
      );
    this.paligemmaWithExpert.gradientCheckpointing = on;
    this.paligemmaWithExpert.visionTower.gradientCheckpointing = on;
  }

  get gradientCheckpointing(): boolean {
    return this.paligemmaWithExpert.gradientCheckpointing;
  }

  get paligemmaWithExpert(): PaliGemmaWithExpert {
    return this.child<PaliGemmaWithExpert>('paligemma_with_expert');
  }
  private head(name: string): LinearLike {
    return this.child<LinearLike>(name);
  }

  namedParameters(): Array<[string, tf.Variable]> {
    return namedParameters(this);
  }

  /** embed_prefix: image tokens (per camera) then language tokens; ar flags all 0 (full attention). */
  embedPrefix(obs: Pi0Observation): { embs: tf.Tensor; pad: Uint8Array[]; ar: Uint8Array[] } {
    const batch = obs.state.shape[0]!;
    if (obs.images.length !== this.config.imageKeys.length || obs.imageMasks.length !== obs.images.length) {
      throw new InputShapeError(
        `pi0 expects ${this.config.imageKeys.length} images (${this.config.imageKeys.join(', ')}) with one mask each; got ${obs.images.length} images, ${obs.imageMasks.length} masks`,
      );
    }
    if (obs.tokens.rank !== 2 || obs.tokens.shape[0] !== batch || obs.tokenMasks.length !== batch) {
      throw new InputShapeError(
        `tokens must be int32 [${batch}, L] with one mask row per example; got [${obs.tokens.shape}], ${obs.tokenMasks.length} mask rows`,
      );
    }
    const pwe = this.paligemmaWithExpert;
    const nImg = siglipNumTokens(this.config.siglip);
    const numCams = obs.images.length;
    const L = obs.tokens.shape[1]!;
    const embs = tf.tidy(() => {
      // One SigLIP pass over every camera (stacked on the batch axis), then split back per camera.
      const all = pwe.embedImage(tf.concat(obs.images, 0)); // [numCams*B, nImg, width]
      const perCam = tf.split(all, numCams, 0);
      const ids = obs.tokens.dtype === 'int32' ? obs.tokens : tf.cast(obs.tokens, 'int32');
      return tf.concat([...perCam, pwe.embedLanguage(ids)], 1);
    });
    const total = numCams * nImg + L;
    const pad: Uint8Array[] = [];
    const ar: Uint8Array[] = [];
    for (let b = 0; b < batch; b++) {
      const p = new Uint8Array(total);
      for (let c = 0; c < numCams; c++) p.fill(Number(Boolean(obs.imageMasks[c]![b])), c * nImg, (c + 1) * nImg);
      const tm = obs.tokenMasks[b]!;
      if (tm.length !== L) throw new InputShapeError(`token mask row ${b} has ${tm.length} entries for ${L} tokens`);
      for (let j = 0; j < L; j++) p[numCams * nImg + j] = Number(Boolean(tm[j]));
      pad.push(p);
      ar.push(new Uint8Array(total));
    }
    return { embs, pad, ar };
  }

  /**
   * embed_suffix: the state token (state_proj), then horizon action tokens from
   * action_time_mlp_out(silu(action_time_mlp_in([action_in_proj(x_t), time_emb]))). ar flags: 1 for
   * the state, 1 for the first action, 0 for the rest (the action block attends to itself fully).
   */
  embedSuffix(
    state: tf.Tensor,
    noisyActions: tf.Tensor,
    times: ArrayLike<number>,
  ): { embs: tf.Tensor; pad: Uint8Array[]; ar: Uint8Array[] } {
    const [batch, horizon, a] = noisyActions.shape as [number, number, number];
    if (state.rank !== 2 || state.shape[0] !== batch || state.shape[1] !== this.actionDim || a !== this.actionDim) {
      throw new InputShapeError(
        `state must be [${batch}, ${this.actionDim}] and actions [B, H, ${this.actionDim}] (pad to action_dim); got [${state.shape}] and [${noisyActions.shape}]`,
      );
    }
    const width = (this.head('action_in_proj') as LinearLike).outFeatures;
    const embs = tf.tidy(() => {
      const stateEmb = tf.expandDims(this.head('state_proj').apply(state), 1); // [B, 1, w]
      const actionEmb = this.head('action_in_proj').apply(noisyActions); // [B, H, w]
      const timeEmb = tf.tensor3d(sincosTimeEmbedding(times, width), [batch, 1, width]);
      const fused = tf.concat([actionEmb, tf.tile(timeEmb, [1, horizon, 1])], 2);
      const actionTime = this.head('action_time_mlp_out').apply(silu(this.head('action_time_mlp_in').apply(fused)));
      return tf.concat([stateEmb, actionTime], 1);
    });
    const pad: Uint8Array[] = [];
    const ar: Uint8Array[] = [];
    for (let b = 0; b < batch; b++) {
      pad.push(new Uint8Array(1 + horizon).fill(1));
      const r = new Uint8Array(1 + horizon);
      r[0] = 1;
      r[1] = 1;
      ar.push(r);
    }
    return { embs, pad, ar };
  }

  private ropeOf(positions: Int32Array[]): RopeTables {
    const c = this.paligemmaWithExpert.languageModel.config;
    return ropeTables(positions, c.headDim, c.ropeTheta);
  }

  /** v_t for x_t at times (the full joint forward, openpi's training path). */
  velocity(obs: Pi0Observation, xT: tf.Tensor, times: ArrayLike<number>): tf.Tensor {
    return tf.tidy(() => {
      const prefix = this.embedPrefix(obs);
      const suffix = this.embedSuffix(obs.state, xT, times);
      const sp = prefix.pad[0]!.length;
      const pad = prefix.pad.map((p, b) => concatU8(p, suffix.pad[b]!));
      const ar = prefix.ar.map((r, b) => concatU8(r, suffix.ar[b]!));
      const positions = positionsFromPadding(pad);
      const mask = additiveMask(makeAtt2dMasks(pad, ar));
      const ropeP = this.ropeOf(positions.map((r) => r.subarray(0, sp)));
      const ropeS = this.ropeOf(positions.map((r) => r.subarray(sp)));
      const out = this.paligemmaWithExpert.forwardJoint(prefix.embs, suffix.embs, ropeP, ropeS, mask);
      const h = out.shape[1]!;
      const last = tf.slice(out, [0, h - this.actionHorizon, 0], [-1, this.actionHorizon, -1]);
      return this.head('action_out_proj').apply(last);
    });
  }

  /**
   * openpi's forward: noise ~ N(0, 1), t ~ Beta(1.5, 1) * 0.999 + 0.001 (both from `rng`),
   * x_t = t noise + (1 - t) actions, u_t = noise - actions; returns the per-element loss
   * (u_t - v_t)^2, [B, horizon, actionDim] (the trainer takes the mean).
   */
  computeLoss(batch: Pi0Batch, rng: RandomSource, draws?: { noise?: tf.Tensor; times?: ArrayLike<number> }): tf.Tensor {
    const [b, h, a] = batch.actions.shape as [number, number, number];
    if (h !== this.actionHorizon || a !== this.actionDim) {
      throw new InputShapeError(
        `actions must be [B, ${this.actionHorizon}, ${this.actionDim}], got [${batch.actions.shape}]`,
      );
    }
    const noise = draws?.noise ?? sampleNoise(rng, [b, h, a]);
    const times = draws?.times ?? sampleFlowTime(rng, b);
    try {
      return tf.tidy(() => {
        const { xT, uT } = flowMatchingPair(batch.actions, noise, times);
        return flowMatchingLoss(uT, this.velocity(batch, xT, times));
      });
    } finally {
      if (draws?.noise === undefined) noise.dispose();
    }
  }

  /**
   * openpi's sample_actions: the prefix KV cache once, then `numSteps` Euler steps from noise (t = 1)
   * to t = 0 with dt = -1/numSteps. Returns [B, horizon, actionDim].
   */
  sampleActions(obs: Pi0Observation, rng: RandomSource, opts: Pi0SampleOptions = {}): tf.Tensor {
    const batch = obs.state.shape[0]!;
    const noise = opts.noise ?? sampleNoise(rng, [batch, this.actionHorizon, this.actionDim]);
    const pwe = this.paligemmaWithExpert;
    const prefix = this.embedPrefix(obs);
    const prefixPositions = positionsFromPadding(prefix.pad);
    const prefixMask = additiveMask(makeAtt2dMasks(prefix.pad, prefix.ar));
    const ropeP = this.ropeOf(prefixPositions);
    const cache = pwe.prefixCache(prefix.embs, ropeP, prefixMask);
    for (const t of [prefix.embs, prefixMask, ropeP.cos, ropeP.sin]) t.dispose();
    const sp = prefix.pad[0]!.length;
    const offsets = prefix.pad.map((p) => p.reduce((s, v) => s + v, 0));
    const prefixKeys: BoolMask2d = {
      batch,
      sq: 1 + this.actionHorizon,
      sk: sp,
      allowed: new Uint8Array(batch * (1 + this.actionHorizon) * sp),
    };
    for (let b = 0; b < batch; b++)
      for (let i = 0; i < 1 + this.actionHorizon; i++)
        prefixKeys.allowed.set(prefix.pad[b]!, (b * (1 + this.actionHorizon) + i) * sp);
    try {
      return tf.tidy(() =>
        eulerSample(
          noise,
          (x, t) => {
            const suffix = this.embedSuffix(obs.state, x, new Float32Array(batch).fill(t));
            const mask = additiveMask(concatKeys(prefixKeys, makeAtt2dMasks(suffix.pad, suffix.ar)));
            const rope = this.ropeOf(positionsFromPadding(suffix.pad, offsets));
            const out = pwe.forwardSuffixCached(suffix.embs, rope, mask, cache);
            const h = out.shape[1]!;
            return this.head('action_out_proj').apply(
              tf.slice(out, [0, h - this.actionHorizon, 0], [-1, this.actionHorizon, -1]),
            );
          },
          opts.numSteps ?? 10,
        ),
      );
    } finally {
      cache.dispose();
      if (opts.noise === undefined) noise.dispose();
    }
  }
}

function concatU8(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
