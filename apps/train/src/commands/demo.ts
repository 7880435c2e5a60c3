// The main job: synthetic LIBERO data -> norm stats -> train the tiny pi0 LoRA -> verify the PEFT
// adapter -> held-out action error, base vs fine-tuned -> where everything is (pi0's trainAndEvaluatePi0).
import { join } from 'node:path';
import { describeTrainAndEvaluate, trainAndEvaluatePi0, trainConfigFor } from '@vla-lora/pi0';
import { createLogger } from '@vla-lora/trainer';
import type { Invocation } from '../args.js';
import { stoppedLine } from './train.js';

export async function demoCommand(
  inv: Extract<Invocation, { kind: 'demo' }>,
  out: (s: string) => void,
): Promise<number> {
  const cfg = trainConfigFor(inv.config, inv);
  const logger = createLogger({ every: cfg.trainer.logInterval });
  const r = await trainAndEvaluatePi0({
    config: cfg,
    runDir: join(inv.runsRoot, cfg.name, inv.expName),
    dataRoot: inv.dataRoot,
    logger,
  });
  if (!r.eval) {
    out(stoppedLine(r.train, cfg.name, inv.expName));
    return 130;
  }
  for (const l of describeTrainAndEvaluate(r)) out(l);
  if (!(r.eval.fineTuned.mse < 0.5 * r.eval.base.mse)) {
    out(
      `FAILED: the fine-tuned held-out error is not clearly below the base's (${r.eval.fineTuned.mse} vs ${r.eval.base.mse})`,
    );
    return 1;
  }
  return 0;
}
