// The served pi0: an openpi LIBERO request in, an action chunk in robot units out. The transforms
// are the training pipeline's own functions (lerobot-data's liberoInputs — the same call
// LiberoView.sample makes — collateLibero / unnormalize / absoluteActions, this package's toPi0Batch and
// the run's tokenizer), in the order of training and of evaluatePi0Run (camera frames of any size
// are first resized to the model's with image-tools' resizeWithPad, as openpi-client does):
//   state -> Normalize(z-score) -> pad to the model's action dim; images as base_0_rgb and
//   left_wrist_0_rgb, right_wrist_0_rgb zero and masked (openpi's LiberoInputs for pi0); prompt ->
//   tokens; sampleActions (10 Euler steps from the request's noise); the first `actionDims` dims of
//   each step -> Unnormalize -> (delta configs) AbsoluteActions with the raw state.
import * as tf from '@tensorflow/tfjs-core';
import {
  LIBERO_DELTA_MASK,
  absoluteActions,
  collateLibero,
  liberoInputs,
  unnormalize,
  type LiberoNormStats,
  type LiberoSample,
} from '@vla-lora/lerobot-data';
import type { Pi0Policy } from '@vla-lora/models';
import { float32NdArray, type ServedPolicy, type WireMap, type WireValue } from '@vla-lora/policy-server';
import { Philox } from '@vla-lora/trainer';
import { disposePi0Batch, toPi0Batch } from './batch.js';
import type { TrainConfig } from './config/index.js';
import { type PromptTokenizer, WordHashTokenizer } from './prompt-tokenizer.js';
import { parseLiberoRequest, type LiberoRequest } from './libero-request.js';

/** The parts of a load summary the served metadata reports. */
export interface ServedSummary {
  lora: { tensors: number; values: number; modules: number; merged: boolean };
  heads: { tensors: number; values: number } | null;
}

export interface ServedPi0Options {
  policy: Pi0Policy;
  trainConfig: TrainConfig;
  normStats: LiberoNormStats;
  /** Key of the per-request noise (see `noiseFor`). Default 0. */
  seed?: number;
  /** Euler steps (openpi: 10). */
  numSteps?: number;
  /** What was loaded (goes into the metadata); loadTrainedPi0's summary has this shape. */
  summary?: ServedSummary;
  /** The run's tokenizer (tokenizerForRun); default the built-in word-hash tokenizer of toy configs. */
  tokenizer?: PromptTokenizer;
}

/**
 * The sampling noise of one request, [horizon × actionDim] standard normals from Philox4x32-10
 * (trainer's generator, the one evaluation uses) keyed (seed, index): request `index` (0, 1, 2 …
 * in the order the server runs them) of a server started with `--seed seed`; a request carrying
 * `noise_seed: k` uses key (k, 0) whatever its position.
 */
export function noiseFor(seed: number, index: number, size: number): Float32Array {
  return new Philox(seed, index).fillNormal(new Float32Array(size));
}

export class ServedPi0 implements ServedPolicy {
  readonly metadata: WireMap;
  readonly stateDim: number;
  readonly actionDims: number;
  readonly imageSize: number;
  readonly horizon: number;
  private readonly modelDim: number;
  private readonly tokenizer: PromptTokenizer;
  private readonly seed: number;
  private readonly numSteps: number;
  private readonly delta: boolean;
  private requests = 0;

  constructor(private readonly o: ServedPi0Options) {
    const cfg = o.policy.config;
    this.stateDim = o.normStats.state.mean.length;
    this.actionDims = o.normStats.actions.mean.length;
    this.imageSize = cfg.siglip.imageSize;
    this.horizon = cfg.actionHorizon;
    this.modelDim = cfg.actionDim;
    this.tokenizer = o.tokenizer ?? new WordHashTokenizer(cfg.vocabSize, cfg.maxTokenLen);
    this.seed = o.seed ?? 0;
    if (!Number.isInteger(this.seed) || this.seed < 0 || this.seed > 0xffffffff)
      throw new RangeError(`seed must be an integer in [0, 2^32), got ${this.seed}`);
    this.numSteps = o.numSteps ?? 10;
    this.delta = o.trainConfig.data.useDeltaActions;
    const s = o.summary;
    this.metadata = {
      policy: 'pi0',
      config: o.trainConfig.name,
      model: cfg.name,
      action_horizon: this.horizon,
      action_dim: this.actionDims,
      model_action_dim: this.modelDim,
      state_dim: this.stateDim,
      image_size: this.imageSize,
      image_keys: ['observation/image', 'observation/wrist_image'],
      delta_actions: this.delta,
      num_steps: this.numSteps,
      noise: `philox4x32-10 key (seed=${this.seed}, request index); a request's "noise_seed" k uses key (k, 0)`,
      ...(s
        ? {
            lora: { tensors: s.lora.tensors, values: s.lora.values, modules: s.lora.modules, merged: s.lora.merged },
            heads: s.heads ? { tensors: s.heads.tensors, values: s.heads.values } : null,
          }
        : {}),
    };
  }

  /** Requests run so far (the next default noise index). */
  get requestCount(): number {
    return this.requests;
  }

  async infer(obs: WireMap): Promise<{ [key: string]: WireValue }> {
    const req = parseLiberoRequest(obs, { imageSize: this.imageSize, stateDim: this.stateDim });
    const t0 = performance.now();
    const [key, index] = req.noiseSeed !== null ? [req.noiseSeed, 0] : [this.seed, this.requests];
    this.requests++;
    const actions = await this.sample(req, noiseFor(key, index, this.horizon * this.modelDim));
    return {
      actions: float32NdArray(actions, [this.horizon, this.actionDims]),
      policy_timing: { infer_ms: performance.now() - t0 },
    };
  }

  /** One action chunk [horizon × actionDims] in robot units for a checked request and its noise. */
  async sample(req: LiberoRequest, noise: Float32Array): Promise<Float32Array> {
    const cfg = this.o.policy.config;
    const stats = this.o.normStats;
    const size = this.imageSize;
    const sample: LiberoSample = {
      position: 0,
      episodeIndex: 0,
      frameIndex: 0,
      actions: new Float32Array(this.horizon * this.modelDim),
      actionIsPad: new Uint8Array(this.horizon),
      ...liberoInputs(
        {
          state: req.state,
          image: { height: size, width: size, data: req.image },
          wristImage: { height: size, width: size, data: req.wristImage },
          prompt: req.prompt,
        },
        { stateDim: this.stateDim, modelActionDim: this.modelDim, normStats: stats },
      ),
    };
    const batch = toPi0Batch(collateLibero([sample]), cfg, this.tokenizer);
    const noiseT = tf.tensor3d(noise, [1, this.horizon, this.modelDim]);
    let pred: Float32Array;
    try {
      const out = this.o.policy.sampleActions(batch, new Philox(0), { noise: noiseT, numSteps: this.numSteps });
      try {
        pred = (await out.data()) as Float32Array;
      } finally {
        out.dispose();
      }
    } finally {
      noiseT.dispose();
      disposePi0Batch(batch);
    }
    const dims = this.actionDims;
    const chunk = new Float32Array(this.horizon * dims);
    for (let t = 0; t < this.horizon; t++)
      for (let d = 0; d < dims; d++) chunk[t * dims + d] = pred[t * this.modelDim + d]!;
    unnormalize(chunk, dims, stats.actions);
    if (this.delta) absoluteActions(chunk, dims, req.state, LIBERO_DELTA_MASK);
    return chunk;
  }
}
