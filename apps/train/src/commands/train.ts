import { join } from 'node:path';
import { describeTrainRun, trainConfigFor, trainPi0, type TrainPi0Result } from '@vla-lora/pi0';
import { createLogger } from '@vla-lora/trainer';
import type { Invocation } from '../args.js';

/** What to type to continue a run stopped by a signal. */
export const stoppedLine = (r: TrainPi0Result, config: string, expName: string): string =>
  `stopped by ${r.loop.stoppedBy} at step ${r.loop.step}; continue with: vla-train ${config} --exp-name ${expName} --resume`;

export async function trainCommand(
  inv: Extract<Invocation, { kind: 'train' }>,
  out: (s: string) => void,
): Promise<number> {
  const cfg = trainConfigFor(inv.config, inv);
  const r = await trainPi0({
    config: cfg,
    runDir: join(inv.runsRoot, cfg.name, inv.expName),
    dataRoot: inv.dataRoot,
    resume: inv.resume,
    overwrite: inv.overwrite,
    allowConfigChange: inv.allowConfigChange,
    ...(inv.baseWeights ? { baseWeights: inv.baseWeights } : {}),
    ...(inv.tokenizer ? { tokenizer: inv.tokenizer } : {}),
    logger: createLogger({ every: cfg.trainer.logInterval }),
  });
  for (const l of describeTrainRun(r)) out(l);
  if (r.loop.stoppedBy === 'completed') return 0;
  out(stoppedLine(r, cfg.name, inv.expName));
  return r.loop.stoppedBy === 'SIGINT' ? 130 : 143;
}
