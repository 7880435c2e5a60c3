// The pi0 LoRA recipe, top to bottom (torchtune style): backend → run dir → build pi0 → inject
// LoRA → freeze → say what happened (+ memory bill) → data → preflight → loop → export + verify.
import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { writeFileAtomic, type JsonValue } from '@vla-lora/checkpoint-io';
import { writeNormStats } from '@vla-lora/lerobot-data';
import { formatBytes, getGemmaVariant, getPi0Config, PI0_PATHS } from '@vla-lora/gemma-config';
import { InsufficientMemoryError, Pi0ConfigError } from './errors.js';
import { namedParameters } from '@vla-lora/lora-core';
import { sampleFlowTime, sampleNoise, type Pi0Batch, type Pi0Policy } from '@vla-lora/models';
import type { TrainConfig } from './config/index.js';
import {
  trainLoop,
  createLoopOptimizer,
  warmupCosine,
  RngStreams,
  prepareRunDir,
  type TrainLogger,
  type TrainLoopResult,
  type PreparedRunDir,
  runPath,
} from '@vla-lora/trainer';
import { freezePolicyFor, planRun } from './plan/index.js';
import { freezeWithPolicy, preflight } from './freeze-and-preflight.js';
import type { PreflightReport } from '@vla-lora/freeze-policy';
import { ensureBackend } from './backend.js';
import { pi0UnusedByDesign } from './unused.js';
import { disposePi0Batch, toPi0Batch } from './batch.js';
import { buildPi0 } from './build.js';
import { Pi0DataSource } from './data-source.js';
import { loadNormStatsFor, normStatsPath, openView } from './dataset.js';
import { exportTrainedWeights, type AdapterReport } from './export.js';
import {
  type ChosenTokenizer,
  choosePromptTokenizer,
  readTokenizerRecord,
  writeTokenizerRecord,
} from './tokenizer-choice.js';
import { TokenizerChangedError } from '@vla-lora/paligemma-tokenizer';

export interface TrainPi0Options {
  config: TrainConfig;
  /** <runs-root>/<config>/<exp-name>. */
  runDir: string;
  dataRoot: string;
  resume: boolean;
  overwrite: boolean;
  allowConfigChange?: boolean;
  /** openpi PyTorch-layout model.safetensors (file or dir). */
  baseWeights?: string;
  /**
   * openpi's paligemma_tokenizer.model (SentencePiece) or a tokenizer.json dir; required for
   * real-vocabulary configs. Its sha256 and vocabulary size are recorded in the run dir.
   */
  tokenizer?: string;
  /** Memory the run may use (default: this machine's total memory); a bigger bill is refused before allocating. */
  memoryLimitBytes?: number;
  logger: TrainLogger;
  /** Install SIGINT/SIGTERM handlers (default true). */
  handleSignals?: boolean;
  hooks?: { beforeCheckpointCommit?: (tmpDir: string) => Promise<void> };
}

export interface TrainPi0Result {
  runDir: string;
  backend: string;
  loop: TrainLoopResult;
  /** Set when the run completed. */
  adapterDir: string | null;
  trainablePath: string | null;
  adapterReport: AdapterReport | null;
  /** LoRA modules whose lora_B is still all zero after training, and whether pi0's structure explains them all. */
  zeroLoraB: { modules: string[]; explained: string | null };
}

/** Flow-matching loss, mean over everything; noise and time from their own RNG streams. */
export function pi0Loss(policy: Pi0Policy): (batch: Pi0Batch, rng: RngStreams) => tf.Scalar {
  return (batch, rng) =>
    tf.tidy(() => {
      const [b, h, a] = batch.actions.shape as [number, number, number];
      const noise = sampleNoise(rng.get('noise'), [b, h, a]);
      const times = sampleFlowTime(rng.get('time'), b);
      return tf.mean(policy.computeLoss(batch, rng.get('noise'), { noise, times })) as tf.Scalar;
    });
}

/**
 * Refuses what cannot work before anything is allocated: a tokenizer that is missing, corrupt or
 * of the wrong vocabulary (choosePromptTokenizer), and a run whose memory bill exceeds the machine.
 */
async function checkRunnable(o: TrainPi0Options): Promise<ChosenTokenizer> {
  const cfg = o.config;
  const pi0 = getPi0Config(cfg.model.pi0);
  const chosen = await choosePromptTokenizer(pi0, o.tokenizer);
  const bill = planRun(cfg).bill;
  const limit = o.memoryLimitBytes ?? totalmem();
  if (bill.perDeviceBytes > limit)
    throw new InsufficientMemoryError(
      `${cfg.name} needs about ${formatBytes(bill.perDeviceBytes)} per device by the memory bill below, and ${o.memoryLimitBytes === undefined ? 'this machine has' : 'the limit is'} ${formatBytes(limit)}; ` +
        `nothing was allocated. Use a machine with more memory, a smaller batch (--set data.batchSize=…), or a LoRA config that freezes more.\n${bill.table}`,
    );
  return chosen;
}

/** What the training loop does not implement yet is refused, not silently skipped. */
function checkImplemented(cfg: TrainConfig): void {
  if (cfg.ema !== undefined) {
    throw new Pi0ConfigError(
      `${cfg.name} keeps an EMA of the weights (decay ${cfg.ema.decay}) as openpi does, which vla-lora's trainer does not implement yet; ` +
        `use "vla-train plan ${cfg.name}" for its memory bill (openpi itself trains this config: scripts/train.py ${cfg.name}), or a LoRA config such as pi0_libero_lora`,
    );
  }
}

export async function trainPi0(o: TrainPi0Options): Promise<TrainPi0Result> {
  const cfg = o.config;
  const log = o.logger;
  checkImplemented(cfg);
  const tokenizer = await checkRunnable(o);
  const backend = await ensureBackend(cfg.backend);
  log.info(backend.description);

  const run = await prepareRunDir(o.runDir, {
    resume: o.resume,
    overwrite: o.overwrite,
    config: cfg as unknown as JsonValue,
    allowConfigChange: o.allowConfigChange ?? false,
  });
  for (const w of run.warnings) log.warn(w);
  try {
    return await trainInRunDir(o, run, backend.description, tokenizer);
  } finally {
    run.release();
  }
}

async function trainInRunDir(
  o: TrainPi0Options,
  run: PreparedRunDir,
  backendDescription: string,
  chosen: ChosenTokenizer,
): Promise<TrainPi0Result> {
  const cfg = o.config;
  const log = o.logger;
  await writeFileAtomic(runPath(run.runDir, 'config'), `${JSON.stringify(cfg, null, 2)}\n`);
  log.info(`run directory: ${run.runDir}`);
  // A resumed run keeps its tokenizer: another one would map prompts to other embedding rows.
  const recorded = await readTokenizerRecord(run.runDir);
  if (recorded !== null && (recorded.sha256 !== chosen.record.sha256 || recorded.vocabSize !== chosen.record.vocabSize))
    throw new TokenizerChangedError(
      { sha256: recorded.sha256 ?? `built-in ${recorded.kind}`, vocabSize: recorded.vocabSize },
      { sha256: chosen.record.sha256 ?? `built-in ${chosen.record.kind}`, vocabSize: chosen.record.vocabSize },
    );
  await writeTokenizerRecord(run.runDir, chosen.record);
  log.info(chosen.description);

  // 1 + 2: model and LoRA
  const built = await buildPi0(cfg, o.baseWeights ? { baseWeights: o.baseWeights } : {});
  log.info(`weights: ${built.weightsFrom}`);
  const ranks = [...new Set(built.inject.wrapped.map((w) => `r=${w.r}/alpha=${w.alpha}`))].join(', ');
  log.info(
    `LoRA detected: wrapped ${built.inject.count} linear layers (${ranks}) -> ${built.inject.count * 2} LoRA tensors created, ${built.inject.loraParameters.toLocaleString('en-US')} LoRA parameters`,
  );

  // 3: freeze by policy (base_layer weights stay frozen; LoRA + the five heads train)
  const all = new Map(namedParameters(built.policy));
  const { trainable, report } = freezeWithPolicy(all, freezePolicyFor(cfg), log);
  const plan = planRun(cfg);
  if (plan.report.trainable !== report.trainable || plan.report.total !== report.total) {
    log.warn(
      `accounting from gemma-config (${plan.report.trainable}/${plan.report.total}) differs from the built model (${report.trainable}/${report.total})`,
    );
  }
  log.info(`memory bill (per device, estimate before step 0): ${formatBytes(plan.bill.perDeviceBytes)}`);
  for (const line of plan.bill.table.split('\n')) log.info(line);

  // data
  const stats = await loadNormStatsFor(cfg, o.dataRoot);
  // The statistics the model is trained with travel with the run (openpi keeps them in the
  // checkpoint's assets): vla-serve finds them beside the adapter, whatever the data root.
  const runNormStats = await writeNormStats(runPath(run.runDir, 'normStats'), stats);
  log.info(`norm stats: ${normStatsPath(cfg, o.dataRoot)} (copied to ${runNormStats})`);
  const view = await openView(cfg, o.dataRoot, 'train', stats);
  const tokenizer = chosen.tokenizer;
  const data = new Pi0DataSource(view, built.pi0, tokenizer, cfg.data.batchSize, cfg.trainer.seed);
  log.info(
    `data: ${view.length} training frames (${view.dataset.episodeIndices.length} episodes), batch ${cfg.data.batchSize}, action chunks of ${built.pi0.actionHorizon}`,
  );

  // 4: preflight on one batch, with its own RNG (the run's RNG and data order stay untouched)
  const lossFn = pi0Loss(built.policy);
  let flow: PreflightReport;
  const probe = toPi0Batch(
    await view.batch(Array.from({ length: Math.min(cfg.data.batchSize, view.length) }, (_, i) => i)),
    built.pi0,
    tokenizer,
  );
  try {
    const probeRng = new RngStreams((cfg.trainer.seed ^ 0x5eed) >>> 0);
    flow = await preflight(all, () => lossFn(probe, probeRng), log, {
      expectedDisconnected: pi0UnusedByDesign(built.pi0),
    });
  } finally {
    disposePi0Batch(probe);
  }
  const dead = new Set(flow.disconnected);
  const optimized = new Map([...trainable].filter(([n]) => !dead.has(n)));
  const savedNotOptimized = new Map([...trainable].filter(([n]) => dead.has(n)));

  // 5: the loop
  const o1 = cfg.optim;
  const sched = { warmupSteps: o1.warmupSteps, peakLr: o1.peakLr, decaySteps: o1.decaySteps, decayLr: o1.decayLr };
  const loop = await trainLoop({
    tf,
    runDir: run.runDir,
    params: optimized,
    ...(savedNotOptimized.size > 0 ? { savedNotOptimized } : {}),
    lossFn,
    data,
    optimizer: createLoopOptimizer(optimized, {
      lr: o1.peakLr,
      betas: [o1.b1, o1.b2],
      eps: o1.eps,
      weightDecay: o1.weightDecay,
    }),
    lrAt: (s) => warmupCosine(s, sched),
    scheduler: { name: 'warmup_cosine', ...sched },
    seed: cfg.trainer.seed,
    totalSteps: cfg.trainer.numTrainSteps,
    gradAccumSteps: cfg.trainer.gradAccumSteps,
    maxGradNorm: o1.clipGradientNorm,
    saveEvery: cfg.trainer.saveInterval,
    retention: {
      keepLast: cfg.trainer.keepLast,
      ...(cfg.trainer.keepEvery > 0 ? { keepEvery: cfg.trainer.keepEvery } : {}),
    },
    config: cfg as unknown as JsonValue,
    adapterConfig: built.adapterConfig,
    ...(run.resumeFrom ? { resumeFrom: run.resumeFrom } : {}),
    allowScheduleChange: o.allowConfigChange ?? false,
    logger: log,
    ...(o.handleSignals === false ? { handleSignals: false } : {}),
    report: {
      title: `${cfg.name} — ${run.runDir}`,
      facts: [
        ['config', cfg.name],
        ['backend', backendDescription],
        ['weights', built.weightsFrom],
        ['trainable', report.peftLine],
        ['LoRA tensors', String(built.inject.count * 2)],
      ],
    },
    ...(o.hooks ? { hooks: o.hooks } : {}),
  });

  const zeroB: string[] = [];
  for (const [n, v] of trainable) {
    if (!n.split('.').includes('lora_B')) continue;
    const maxT = tf.tidy(() => tf.max(tf.abs(v)));
    const max = (await maxT.data())[0] as number;
    maxT.dispose();
    if (max === 0) zeroB.push(n.slice(0, n.indexOf('.lora_B')));
  }
  const lastLayer = `${PI0_PATHS.languageModel}.layers.${getGemmaVariant(built.pi0.paligemmaVariant).depth - 1}.`;
  const explained =
    zeroB.length > 0 && zeroB.every((m) => m.startsWith(lastLayer))
      ? `all ${zeroB.length} are in the last PaliGemma layer, whose prefix output pi0 never reads (no gradient reaches them, as in openpi)`
      : null;
  if (zeroB.length > 0)
    log.info(
      `lora_B still all zero for ${zeroB.length} module(s)${explained ? `: ${explained}` : `: ${zeroB.slice(0, 4).join(', ')}`}`,
    );
  let exported: Awaited<ReturnType<typeof exportTrainedWeights>> | null = null;
  if (loop.stoppedBy === 'completed') {
    exported = await exportTrainedWeights(run.runDir, trainable, built.adapterConfig);
    log.info(
      `adapter saved in PEFT format: ${exported.adapterDir} — verified: ${exported.report.loraTensors} LoRA tensors, ${exported.report.loraValues.toLocaleString('en-US')} values`,
    );
  }
  return {
    runDir: run.runDir,
    backend: backendDescription,
    loop,
    adapterDir: exported?.adapterDir ?? null,
    trainablePath: exported?.trainablePath ?? null,
    adapterReport: exported?.report ?? null,
    zeroLoraB: { modules: zeroB, explained },
  };
}
