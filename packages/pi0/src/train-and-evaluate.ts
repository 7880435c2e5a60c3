// The whole recipe on one config (what `vla-train demo` runs): the dataset (a synthetic one is generated if absent),
// its norm stats, a fresh training run (the run dir is overwritten), the verified PEFT adapter, then the held-out
// action error of the fine-tuned policy against the base it started from.
import type { TrainLogger } from '@vla-lora/trainer';
import type { TrainConfig } from './config/index.js';
import { computeNormStatsForConfig, ensureDataset, type EnsuredDataset } from './dataset.js';
import { evaluatePi0Run, type EvalResult } from './eval.js';
import { trainPi0, type TrainPi0Result } from './train.js';

export interface TrainAndEvaluateOptions {
  config: TrainConfig;
  /** Where the run goes (replaced if it exists). */
  runDir: string;
  dataRoot: string;
  logger: TrainLogger;
  /** Install SIGINT/SIGTERM handlers while training (default true). */
  handleSignals?: boolean;
}

export interface TrainAndEvaluateResult {
  dataset: EnsuredDataset;
  normStats: { path: string; frames: number };
  train: TrainPi0Result;
  /** Null when training stopped before completing (a signal): nothing was evaluated. */
  eval: EvalResult | null;
  /** Wall time of all of it. */
  seconds: number;
}

/** Data, norm stats, training from scratch, adapter verification, then base vs fine-tuned on the held-out episodes. */
export async function trainAndEvaluatePi0(o: TrainAndEvaluateOptions): Promise<TrainAndEvaluateResult> {
  const t0 = performance.now();
  const dataset = await ensureDataset(o.config, o.dataRoot, o.logger);
  const normStats = await computeNormStatsForConfig(o.config, o.dataRoot, o.logger);
  const train = await trainPi0({
    config: o.config,
    runDir: o.runDir,
    dataRoot: o.dataRoot,
    resume: false,
    overwrite: true,
    allowConfigChange: false,
    logger: o.logger,
    ...(o.handleSignals !== undefined ? { handleSignals: o.handleSignals } : {}),
  });
  if (train.loop.stoppedBy !== 'completed')
    return { dataset, normStats, train, eval: null, seconds: (performance.now() - t0) / 1000 };
  if (!train.adapterReport) throw new Error('the adapter was not verified');
  const ev = await evaluatePi0Run({ config: o.config, runDir: train.runDir, dataRoot: o.dataRoot, logger: o.logger });
  return { dataset, normStats, train, eval: ev, seconds: (performance.now() - t0) / 1000 };
}

/** Where a training run's results are (run dir, verified adapter, last checkpoint, metrics, report), as lines. */
export function describeTrainRun(r: TrainPi0Result): string[] {
  return [
    `run: ${r.runDir}`,
    r.adapterDir && r.adapterReport
      ? `adapter (PEFT): ${r.adapterDir} — verified: ${r.adapterReport.loraTensors} LoRA tensors, ${r.adapterReport.loraValues.toLocaleString('en-US')} values`
      : 'adapter (PEFT): not exported yet (the run stopped early; its checkpoint holds the adapter)',
    `last checkpoint: ${r.loop.lastCheckpoint ?? 'none'}`,
    `metrics: ${r.loop.metricsPath}`,
    `report: ${r.loop.reportPath}`,
  ];
}

const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : String(v));

/** What was done and where everything is, as lines for a terminal (the first is empty); for a completed run. */
export function describeTrainAndEvaluate(r: TrainAndEvaluateResult): string[] {
  const { train: t, eval: ev } = r;
  if (!ev || !t.adapterReport) throw new Error('describeTrainAndEvaluate: the run did not complete');
  const ratio = ev.fineTuned.mse / ev.base.mse;
  return [
    '',
    '=== vla-lora demo: pi0 LoRA on synthetic LIBERO ===',
    `${t.backend}`,
    `dataset:            ${r.dataset.root} (${r.dataset.trainEpisodes} train / ${r.dataset.heldOutEpisodes} held-out episodes)`,
    `norm stats:         ${r.normStats.path}`,
    `trained:            ${t.loop.step} steps, final loss ${fmt(t.loop.history.at(-1)?.['loss'])}, ${r.seconds.toFixed(0)} s in total`,
    `adapter (PEFT):     ${t.adapterDir}`,
    `  verified:         ${t.adapterReport.loraTensors} LoRA tensors, ${t.adapterReport.loraValues.toLocaleString('en-US')} values (checkpoint-io verifyAdapter)`,
    ...t.adapterReport.warnings.map(
      (w) => `  verify warning:   ${w}${t.zeroLoraB.explained ? ` — expected: ${t.zeroLoraB.explained}` : ''}`,
    ),
    `held-out action MSE (${ev.chunks} chunks x ${ev.horizon} steps x ${ev.actionDims} dims, unnormalised):`,
    `  base (untrained): ${ev.base.mse.toFixed(5)}`,
    `  fine-tuned:       ${ev.fineTuned.mse.toFixed(5)}  (${(ratio * 100).toFixed(1)}% of base)`,
    `run dir:            ${t.runDir}`,
    `checkpoint:         ${t.loop.lastCheckpoint}`,
    `metrics:            ${t.loop.metricsPath}`,
    `report (HTML):      ${t.loop.reportPath}`,
    `eval:               ${ev.path}`,
  ];
}
