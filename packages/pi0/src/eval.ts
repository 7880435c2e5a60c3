// Held-out evaluation: action MSE of sampled chunks (10 Euler steps, fixed noise per chunk), in the
// dataset's own units (unnormalised, unpadded, padded steps excluded), base vs fine-tuned. The
// fine-tuned policy is re-loaded FROM DISK by loadTrainedPi0 (PEFT adapter + heads, as vla-serve loads
// it), so the number also proves that the saved files hold the trained weights.
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic } from '@vla-lora/checkpoint-io';
import { unnormalize, type LiberoNormStats, type LiberoView } from '@vla-lora/lerobot-data';
import { namedParameters } from '@vla-lora/lora-core';
import type { Pi0Policy } from '@vla-lora/models';
import type { TrainConfig } from './config/index.js';
import { Philox, writeRunEvaluation, type TrainLogger, runPath } from '@vla-lora/trainer';
import { ensureBackend } from './backend.js';
import { disposePi0Batch, toPi0Batch } from './batch.js';
import { buildPi0 } from './build.js';
import { loadNormStatsFor, normStatsPath, openView } from './dataset.js';
import { loadTrainedPi0 } from './load-trained.js';
import type { PromptTokenizer } from './prompt-tokenizer.js';
import { tokenizerForRun } from './tokenizer-choice.js';

export interface PolicyScore {
  mse: number;
  /** Mean absolute error, same units. */
  mae: number;
}

export interface EvalResult {
  chunks: number;
  horizon: number;
  actionDims: number;
  base: PolicyScore;
  fineTuned: PolicyScore;
  /** eval.json in the run dir. */
  path: string;
}

/** Evenly spaced positions of the held-out view. */
export function evalPositions(length: number, max: number): number[] {
  const n = Math.min(length, max);
  return Array.from({ length: n }, (_, i) => Math.floor((i * length) / n));
}

/** MSE/MAE of `policy`'s sampled chunks against the held-out ground truth. */
export async function scorePolicy(
  policy: Pi0Policy,
  view: LiberoView,
  stats: LiberoNormStats,
  tokenizer: PromptTokenizer,
  positions: number[],
  seed: number,
  batchSize = 8,
): Promise<PolicyScore> {
  const cfg = policy.config;
  const dims = view.actionDim;
  let se = 0;
  let ae = 0;
  let n = 0;
  for (let i = 0; i < positions.length; i += batchSize) {
    const pos = positions.slice(i, i + batchSize);
    const lb = await view.batch(pos);
    const batch = toPi0Batch(lb, cfg, tokenizer);
    // the same noise for every policy: chunk k always starts from Philox(seed, k)
    const noise = new Float32Array(pos.length * cfg.actionHorizon * cfg.actionDim);
    pos.forEach((_, j) =>
      new Philox(seed, i + j).fillNormal(
        noise.subarray(j * cfg.actionHorizon * cfg.actionDim, (j + 1) * cfg.actionHorizon * cfg.actionDim),
      ),
    );
    const noiseT = tf.tensor3d(noise, [pos.length, cfg.actionHorizon, cfg.actionDim]);
    let pred: Float32Array;
    try {
      const out = policy.sampleActions(batch, new Philox(seed), { noise: noiseT });
      pred = (await out.data()) as Float32Array;
      out.dispose();
    } finally {
      noiseT.dispose();
      disposePi0Batch(batch);
    }
    pos.forEach((p, j) => {
      const raw = view.rawChunk(p);
      const chunk = new Float32Array(cfg.actionHorizon * dims);
      for (let t = 0; t < cfg.actionHorizon; t++) {
        for (let d = 0; d < dims; d++)
          chunk[t * dims + d] = pred[(j * cfg.actionHorizon + t) * cfg.actionDim + d] as number;
      }
      unnormalize(chunk, dims, stats.actions);
      for (let t = 0; t < cfg.actionHorizon; t++) {
        if (raw.actionIsPad[t]) continue;
        for (let d = 0; d < dims; d++) {
          const e = (chunk[t * dims + d] as number) - (raw.actions[t * dims + d] as number);
          se += e * e;
          ae += Math.abs(e);
          n++;
        }
      }
    });
  }
  return { mse: se / n, mae: ae / n };
}

export interface EvaluateOptions {
  config: TrainConfig;
  runDir: string;
  dataRoot: string;
  baseWeights?: string;
  /** The tokenizer the run was trained with (checked against the run's tokenizer-record.json). */
  tokenizer?: string;
  logger: TrainLogger;
}

/** Base (the model the run started from) vs fine-tuned (base + <run>/adapter + <run>/trainable.safetensors). */
export async function evaluatePi0Run(o: EvaluateOptions): Promise<EvalResult> {
  const cfg = o.config;
  await ensureBackend(cfg.backend);
  const stats = await loadNormStatsFor(cfg, o.dataRoot);
  const view = await openView(cfg, o.dataRoot, 'test', stats);
  const positions = evalPositions(view.length, cfg.eval.maxChunks);
  const bw = o.baseWeights ? { baseWeights: o.baseWeights } : {};

  const { tokenizer } = await tokenizerForRun(o.runDir, cfg, o.tokenizer);
  const base = await buildPi0(cfg, bw);
  o.logger.info(
    `evaluating the base policy on ${positions.length} held-out chunks (${view.dataset.episodeIndices.length} episodes)`,
  );
  const baseScore = await scorePolicy(base.policy, view, stats, tokenizer, positions, cfg.eval.seed);
  for (const [, v] of namedParameters(base.policy)) v.dispose();

  const tuned = await loadTrainedPi0({
    config: cfg,
    baseWeights: o.baseWeights ?? null,
    adapter: runPath(o.runDir, 'adapter'),
    trainable: runPath(o.runDir, 'trainable'),
    normStats: normStatsPath(cfg, o.dataRoot),
    allowUntrained: true,
    tokenizer: o.tokenizer ?? null,
  });
  const { lora, heads } = tuned.summary;
  o.logger.info(
    `fine-tuned policy loaded from disk: ${lora.tensors} LoRA tensors + ${heads?.tensors ?? 0} head tensors, ${(lora.values + (heads?.values ?? 0)).toLocaleString('en-US')} values (strict: nothing missing, nothing unexpected)`,
  );
  let tunedScore: PolicyScore;
  try {
    tunedScore = await scorePolicy(tuned.policy, view, stats, tokenizer, positions, cfg.eval.seed);
  } finally {
    tuned.dispose();
  }

  const result = {
    chunks: positions.length,
    horizon: base.pi0.actionHorizon,
    actionDims: view.actionDim,
    base: baseScore,
    fineTuned: tunedScore,
  };
  const path = runPath(o.runDir, 'eval');
  await writeFileAtomic(
    path,
    `${JSON.stringify({ split: 'test', units: 'unnormalised dataset action units, padded steps excluded', sampler: '10 Euler steps, fixed noise per chunk', ...result }, null, 2)}\n`,
  );
  // the same numbers where users look: eval/* in the run's TensorBoard file, base vs fine-tuned in report.html
  await writeRunEvaluation(o.runDir, {
    description: `${result.chunks} held-out chunks of the test split (${result.horizon} steps × ${result.actionDims} action dims, unnormalised units), 10 Euler steps, fixed noise per chunk`,
    metrics: [
      { name: 'action MSE', base: baseScore.mse, fineTuned: tunedScore.mse },
      { name: 'action MAE', base: baseScore.mae, fineTuned: tunedScore.mae },
    ],
    scalars: {
      mse_base: baseScore.mse,
      mse_fine_tuned: tunedScore.mse,
      mae_base: baseScore.mae,
      mae_fine_tuned: tunedScore.mae,
    },
  });
  return { ...result, path };
}
