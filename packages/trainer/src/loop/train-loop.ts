// The optimisation loop: { batch(es), loss, backward, accumulate, clip, step, schedule, log,
// maybe checkpoint }. Model building, LoRA, freezing and the preflight happen before (in the recipe, e.g. @vla-lora/pi0).
import type * as tfns from '@tensorflow/tfjs-core';
import {
  saveCheckpoint,
  writeFileAtomic,
  type JsonValue,
  type LoadedCheckpoint,
  type MetricRecord,
  type PeftAdapter,
  type RetentionPolicy,
  canonicalJson,
} from '@vla-lora/checkpoint-io';
import { leanVariableGrads } from '@vla-lora/models';
import { clipGradNorm } from '../optim/index.js';
import { applyCheckpoint, collectCheckpoint, type CheckpointableOptimizer } from '../checkpoint/index.js';
import { NonFiniteLossError, ResumeError, RunOutputWriteError, TrainerConfigError } from '../errors.js';
import type { TrainLogger } from '../log/index.js';
import { MetricsFile, renderReport, TensorBoardWriter } from '../metrics/index.js';
import { RngStreams } from '../rng/index.js';
import type { DataSource } from './data-source.js';
import { watchStopSignals, yieldToEventLoop, type StopSignal } from './signals.js';
import { runPath } from '../run/layout.js';

/** The optimizer as the loop drives it (see optim-adapter.ts for AdamW). */
export interface LoopOptimizer extends CheckpointableOptimizer {
  step(grads: Map<string, tfns.Tensor>, lr: number): void;
}

export interface TrainLoopOptions<B> {
  tf: typeof tfns;
  /** Run directory: checkpoints/, metrics.jsonl, tensorboard/ (event files), report.html go here. */
  runDir: string;
  /** The trainable parameters by PyTorch name (LoRA tensors and trainable heads). */
  params: Map<string, tfns.Variable>;
  /**
   * Trainable by policy but never reached by the loss (the preflight explained why): saved with the
   * adapter so that it is complete, not optimised, restored (unchanged) on resume.
   */
  savedNotOptimized?: Map<string, tfns.Variable>;
  /** Mean loss of one batch; draws noise/time from `rng`. */
  lossFn: (batch: B, rng: RngStreams) => tfns.Scalar;
  data: DataSource<B>;
  optimizer: LoopOptimizer;
  /** Learning rate for the update taken at `step` (0-based count of updates done). */
  lrAt: (step: number) => number;
  /**
   * Scheduler description saved in the checkpoint (its state is the step). On resume the saved one
   * is read back and must equal this one (and `lrAt(step)` must give the saved `hyper.lr`), else
   * ResumeError — unless `allowScheduleChange`, which turns both into warnings.
   */
  scheduler: JsonValue;
  /** Resume even if the schedule differs from the checkpoint's (e.g. --allow-config-change). */
  allowScheduleChange?: boolean;
  seed: number;
  totalSteps: number;
  gradAccumSteps?: number;
  /** Global-norm clipping (default 1.0, openpi's). */
  maxGradNorm?: number;
  /** Checkpoint every N steps (and at the end, and on SIGINT/SIGTERM). */
  saveEvery: number;
  retention?: RetentionPolicy;
  /** The full config; hashed into the checkpoint. */
  config: JsonValue;
  /** PEFT adapter_config.json content for the LoRA tensors. */
  adapterConfig: PeftAdapter['config'] | null;
  /** Continue from this checkpoint (weights, optimizer, rng, data cursor, metrics). */
  resumeFrom?: LoadedCheckpoint;
  logger: TrainLogger;
  /** Install SIGINT/SIGTERM handlers (default true). */
  handleSignals?: boolean;
  /** Title and facts of report.html. */
  report?: { title: string; facts?: Array<[string, string]> };
  hooks?: {
    /** Passed to saveCheckpoint (tests pause a child here and kill it). */
    beforeCheckpointCommit?: (tmpDir: string) => Promise<void>;
  };
}

export interface TrainLoopResult {
  /** Global step reached. */
  step: number;
  stepsRun: number;
  stoppedBy: 'completed' | StopSignal;
  history: MetricRecord[];
  /** Directory of the last checkpoint written (null if none). */
  lastCheckpoint: string | null;
  metricsPath: string;
  /** The run's TensorBoard event file writer (`<run>/tensorboard/`), for scalars logged after training (eval). */
  tensorboard: TensorBoardWriter;
  reportPath: string;
}

function check(o: TrainLoopOptions<unknown>): void {
  const int = (v: number | undefined, name: string, min: number) => {
    if (v !== undefined && (!Number.isInteger(v) || v < min))
      throw new TrainerConfigError(`${name} must be an integer >= ${min}, got ${v}`);
  };
  int(o.totalSteps, 'totalSteps', 0);
  int(o.gradAccumSteps, 'gradAccumSteps', 1);
  int(o.saveEvery, 'saveEvery', 1);
  if (o.maxGradNorm !== undefined && !(o.maxGradNorm > 0))
    throw new TrainerConfigError(`maxGradNorm must be > 0, got ${o.maxGradNorm}`);
  if (o.params.size === 0)
    throw new TrainerConfigError('no trainable parameters: check the LoRA targets and the freeze policy');
}

export async function trainLoop<B>(o: TrainLoopOptions<B>): Promise<TrainLoopResult> {
  check(o as TrainLoopOptions<unknown>);
  const tf = o.tf;
  const accum = o.gradAccumSteps ?? 1;
  const maxNorm = o.maxGradNorm ?? 1.0;
  const checkpointsDir = runPath(o.runDir, 'checkpoints');
  const metrics = new MetricsFile(runPath(o.runDir, 'metrics'));
  const reportPath = runPath(o.runDir, 'report');
  const tensorboard = new TensorBoardWriter(runPath(o.runDir, 'tensorboard'));

  let step = 0;
  let history: MetricRecord[] = [];
  let rng = new RngStreams(o.seed);
  if (o.resumeFrom) {
    const r = o.resumeFrom;
    checkSchedule(r, o);
    applyCheckpoint(r, o.params, o.optimizer, tf, o.savedNotOptimized);
    rng = RngStreams.fromState(r.state.rng);
    o.data.restore(r.state.dataCursor);
    step = r.step;
    history = r.state.metricsHistory.filter((m) => m.step <= r.step);
    for (const w of r.warnings) o.logger.warn(w);
    o.logger.info(
      `resumed from ${r.dir} at global step ${r.step} (epoch ${r.state.epoch.toFixed(3)}; optimizer, RNG, data cursor and ${history.length} metric records restored)`,
    );
  }
  let lastCheckpoint: string | null = null;
  // metrics.jsonl and report.html live beside the checkpoints: a failed write (disk full) stops the
  // run with a typed error naming the file, the step and the checkpoint to resume from.
  const output = async (file: string, work: () => Promise<void>): Promise<void> => {
    try {
      await work();
    } catch (err) {
      const errno = (e: unknown) => typeof (e as NodeJS.ErrnoException | null)?.code === 'string';
      if (!errno(err) && !(err instanceof Error && errno(err.cause))) throw err;
      throw new RunOutputWriteError(
        `could not write ${file} at step ${step}: ${(err as Error).message}. ` +
          ((lastCheckpoint ?? o.resumeFrom?.dir)
            ? `The last good checkpoint is ${lastCheckpoint ?? o.resumeFrom?.dir}; free space and resume with --resume.`
            : 'No checkpoint was saved yet; free space and start the run again.'),
        { cause: err },
      );
    }
  };
  await output(metrics.path, () => metrics.reset(history));
  await output('tensorboard/', () => tensorboard.reset(history));

  const names = [...o.params.keys()];
  const vars = [...o.params.values()];
  const nameOfVar = new Map(vars.map((v, i) => [v.name, names[i] as string]));
  let lastSavedStep = o.resumeFrom ? o.resumeFrom.step : -1;

  const writeReport = () =>
    output(reportPath, () =>
      writeFileAtomic(
        reportPath,
        renderReport(history, { title: o.report?.title ?? 'training run', facts: o.report?.facts ?? [] }),
      ),
    );
  const save = async () => {
    if (lastSavedStep === step) return;
    const contents = await collectCheckpoint(
      o.savedNotOptimized ? new Map([...o.params, ...o.savedNotOptimized]) : o.params,
      o.optimizer,
      {
        globalStep: step,
        epoch: o.data.epoch(),
        dataCursor: o.data.cursor(),
        rng: rng.state() as unknown as JsonValue,
        scheduler: o.scheduler,
        metricsHistory: history,
        config: o.config,
      },
      o.adapterConfig,
      o.lrAt(step),
    );
    const saved = await saveCheckpoint(checkpointsDir, contents, {
      ...(o.retention ? { retention: o.retention } : {}),
      ...(o.hooks?.beforeCheckpointCommit ? { beforeCommit: o.hooks.beforeCheckpointCommit } : {}),
    });
    lastSavedStep = step;
    lastCheckpoint = saved.dir;
    o.logger.info(
      `checkpoint saved: ${saved.dir}${saved.removed.length ? ` (retention removed ${saved.removed.join(', ')})` : ''}`,
      { checkpoint: saved.dir, step },
    );
    await writeReport();
  };

  const stop =
    o.handleSignals === false
      ? null
      : watchStopSignals((sig) =>
          o.logger.info(
            `${sig} received: saving a checkpoint after the step in progress, then exiting (send it again to exit at once)`,
          ),
        );
  const startStep = step;
  try {
    while (step < o.totalSteps && !stop?.requested) {
      const t0 = performance.now();
      let lossSum = 0;
      let acc: Map<string, tfns.Tensor> | null = null;
      for (let m = 0; m < accum; m++) {
        const batch = await o.data.next();
        // tf.variableGrads's gradients, freeing each intermediate as soon as backward is past it.
        const { value, grads } = leanVariableGrads(() => {
          const l = o.lossFn(batch, rng);
          return accum > 1 ? tf.div(l, accum) : l;
        }, vars);
        lossSum += ((await value.data()) as Float32Array)[0] as number;
        value.dispose();
        o.data.disposeBatch?.(batch);
        if (!acc) {
          acc = new Map(Object.entries(grads).map(([vn, g]) => [nameOfVar.get(vn) as string, g]));
        } else {
          for (const [vn, g] of Object.entries(grads)) {
            const n = nameOfVar.get(vn) as string;
            const prev = acc.get(n);
            if (prev) {
              acc.set(n, tf.add(prev, g));
              prev.dispose();
              g.dispose();
            } else acc.set(n, g);
          }
        }
      }
      const loss = lossSum;
      if (!Number.isFinite(loss)) {
        for (const g of acc?.values() ?? []) g.dispose();
        throw new NonFiniteLossError(
          `loss is ${loss} at step ${step + 1}; lower the learning rate or check the data normalisation (compute-norm-stats) — the last checkpoint is ${lastCheckpoint ?? 'none'}`,
        );
      }
      const grads = acc as Map<string, tfns.Tensor>;
      const lr = o.lrAt(step);
      const clipped = await clipGradNorm(grads, maxNorm);
      o.optimizer.step(clipped.grads, lr);
      for (const g of grads.values()) g.dispose();
      for (const g of clipped.grads.values()) if (!g.isDisposed) g.dispose();
      step++;
      const dt = (performance.now() - t0) / 1000;
      const rec: MetricRecord = {
        step,
        loss,
        lr,
        grad_norm: clipped.totalNorm,
        step_time_s: Number(dt.toFixed(4)),
        samples_per_s: Number(((o.data.batchSize * accum) / dt).toFixed(3)),
        epoch: Number(o.data.epoch().toFixed(4)),
      };
      history.push(rec);
      await output(metrics.path, () => metrics.append(rec));
      await output('tensorboard/', () => tensorboard.append(rec));
      o.logger.step(rec, o.totalSteps);
      await yieldToEventLoop();
      if (step % o.saveEvery === 0 || step === o.totalSteps || stop?.requested) await save();
    }
    if (stop?.requested) await save();
    if (step === o.totalSteps && lastSavedStep !== step && step > 0) await save();
    await writeReport();
  } finally {
    stop?.dispose();
    o.logger.close();
  }
  return {
    step,
    stepsRun: step - startStep,
    stoppedBy: stop?.requested ?? 'completed',
    history,
    lastCheckpoint,
    metricsPath: metrics.path,
    tensorboard,
    reportPath,
  };
}

/**
 * The schedule is part of the resumed state: the saved description must be this run's, and this
 * run's `lrAt` must give the LR the checkpoint recorded as in effect (hyper.lr; checkpoints from
 * before hyper.initial_lr was saved recorded the peak there, so they are only checked by name).
 */
function checkSchedule<B>(r: LoadedCheckpoint, o: TrainLoopOptions<B>): void {
  const problems: string[] = [];
  const saved = r.state.scheduler;
  if (saved !== null && saved !== undefined && canonicalJson(saved) !== canonicalJson(o.scheduler)) {
    problems.push(`the checkpoint's schedule is ${canonicalJson(saved)}, this run's is ${canonicalJson(o.scheduler)}`);
  }
  const hyper = r.optimizer.hyper;
  const savedLr = hyper['lr'];
  if ('initial_lr' in hyper && typeof savedLr === 'number') {
    const now = o.lrAt(r.step);
    if (now !== savedLr) {
      problems.push(
        `the checkpoint recorded lr ${savedLr} in effect at step ${r.step}, this run's schedule gives ${now}`,
      );
    }
  }
  if (problems.length === 0) return;
  const what = `resuming ${r.dir} with a different learning-rate schedule: ${problems.join('; ')}`;
  if (!o.allowScheduleChange) {
    throw new ResumeError(
      `${what}. Resume with the config the run was started with, or pass --allow-config-change if the change is intended`,
    );
  }
  o.logger.warn(`${what}; continuing because the override was given`);
}
