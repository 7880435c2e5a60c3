// The main job: synthetic LIBERO data -> norm stats -> train the tiny pi0 LoRA -> verify the PEFT
// adapter -> held-out action error, base vs fine-tuned -> where everything is.
import { join } from 'node:path';
import {
  applyOverrides,
  computeNormStatsForConfig,
  ensureDataset,
  evaluatePi0Run,
  getTrainConfig,
  trainPi0,
} from '@vla-lora/pi0';
import { createLogger } from '@vla-lora/trainer';
import type { Invocation } from '../args.js';

type Inv = Extract<Invocation, { kind: 'demo' }>;

export async function demoCommand(inv: Inv, out: (s: string) => void): Promise<number> {
  const t0 = performance.now();
  const cfg = applyOverrides(getTrainConfig(inv.config), inv.set);
  if (inv.backend) cfg.backend = inv.backend;
  const logger = createLogger({ every: cfg.trainer.logInterval });
  const dataset = await ensureDataset(cfg, inv.dataRoot, logger);
  const stats = await computeNormStatsForConfig(cfg, inv.dataRoot, logger);
  const runDir = join(inv.runsRoot, cfg.name, inv.expName);
  const r = await trainPi0({
    config: cfg,
    runDir,
    dataRoot: inv.dataRoot,
    resume: false,
    overwrite: true,
    allowConfigChange: false,
    logger,
  });
  if (r.loop.stoppedBy !== 'completed') {
    out(
      `stopped by ${r.loop.stoppedBy} at step ${r.loop.step}; continue with: vla-train ${cfg.name} --exp-name ${inv.expName} --resume`,
    );
    return 130;
  }
  if (!r.adapterReport) throw new Error('the adapter was not verified');
  const ev = await evaluatePi0Run({ config: cfg, runDir: r.runDir, dataRoot: inv.dataRoot, logger });
  const secs = (performance.now() - t0) / 1000;
  const ratio = ev.fineTuned.mse / ev.base.mse;
  const lines = [
    '',
    '=== vla-lora demo: pi0 LoRA on synthetic LIBERO ===',
    `${r.backend}`,
    `dataset:            ${dataset.root} (${dataset.trainEpisodes} train / ${dataset.heldOutEpisodes} held-out episodes)`,
    `norm stats:         ${stats.path}`,
    `trained:            ${r.loop.step} steps, final loss ${fmt(r.loop.history.at(-1)?.['loss'])}, ${secs.toFixed(0)} s in total`,
    `adapter (PEFT):     ${r.adapterDir}`,
    `  verified:         ${r.adapterReport.loraTensors} LoRA tensors, ${r.adapterReport.loraValues.toLocaleString('en-US')} values (checkpoint-io verifyAdapter)`,
    ...r.adapterReport.warnings.map(
      (w) => `  verify warning:   ${w}${r.zeroLoraB.explained ? ` — expected: ${r.zeroLoraB.explained}` : ''}`,
    ),
    `held-out action MSE (${ev.chunks} chunks x ${ev.horizon} steps x ${ev.actionDims} dims, unnormalised):`,
    `  base (untrained): ${ev.base.mse.toFixed(5)}`,
    `  fine-tuned:       ${ev.fineTuned.mse.toFixed(5)}  (${(ratio * 100).toFixed(1)}% of base)`,
    `run dir:            ${r.runDir}`,
    `checkpoint:         ${r.loop.lastCheckpoint}`,
    `metrics:            ${r.loop.metricsPath}`,
    `report (HTML):      ${r.loop.reportPath}`,
    `eval:               ${ev.path}`,
  ];
  for (const l of lines) out(l);
  if (!(ev.fineTuned.mse < 0.5 * ev.base.mse)) {
    out(
      `FAILED: the fine-tuned held-out error is not clearly below the base's (${ev.fineTuned.mse} vs ${ev.base.mse})`,
    );
    return 1;
  }
  return 0;
}

const fmt = (v: unknown) => (typeof v === 'number' ? v.toFixed(4) : String(v));
