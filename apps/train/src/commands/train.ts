import { join } from 'node:path';
import { applyOverrides, getTrainConfig, trainPi0 } from '@vla-lora/pi0';
import { createLogger } from '@vla-lora/trainer';
import type { Invocation } from '../args.js';

type TrainInv = Extract<Invocation, { kind: 'train' }>;

export async function trainCommand(inv: TrainInv, out: (s: string) => void): Promise<number> {
  const cfg = applyOverrides(getTrainConfig(inv.config), inv.set);
  if (inv.backend) cfg.backend = inv.backend;
  const runDir = join(inv.runsRoot, cfg.name, inv.expName);
  const logger = createLogger({ every: cfg.trainer.logInterval });
  const r = await trainPi0({
    config: cfg,
    runDir,
    dataRoot: inv.dataRoot,
    resume: inv.resume,
    overwrite: inv.overwrite,
    allowConfigChange: inv.allowConfigChange,
    ...(inv.baseWeights ? { baseWeights: inv.baseWeights } : {}),
    ...(inv.tokenizer ? { tokenizer: inv.tokenizer } : {}),
    logger,
  });
  out(`run: ${r.runDir}`);
  out(
    r.adapterDir && r.adapterReport
      ? `adapter (PEFT): ${r.adapterDir} — verified: ${r.adapterReport.loraTensors} LoRA tensors, ${r.adapterReport.loraValues.toLocaleString('en-US')} values`
      : 'adapter (PEFT): not exported yet (the run stopped early; its checkpoint holds the adapter)',
  );
  out(`last checkpoint: ${r.loop.lastCheckpoint ?? 'none'}`);
  out(`metrics: ${r.loop.metricsPath}`);
  out(`report: ${r.loop.reportPath}`);
  if (r.loop.stoppedBy !== 'completed') {
    out(
      `stopped by ${r.loop.stoppedBy} at step ${r.loop.step}; continue with: vla-train ${cfg.name} --exp-name ${inv.expName} --resume`,
    );
    return r.loop.stoppedBy === 'SIGINT' ? 130 : 143;
  }
  return 0;
}
