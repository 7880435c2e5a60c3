import { applyOverrides, computeNormStatsForConfig, createLogger, getTrainConfig } from '@vla-lora/trainer';
import type { Invocation } from '../args.js';

type Inv = Extract<Invocation, { kind: 'compute-norm-stats' }>;

export async function normStatsCommand(inv: Inv, out: (s: string) => void): Promise<void> {
  const cfg = applyOverrides(getTrainConfig(inv.config), inv.set);
  const r = await computeNormStatsForConfig(cfg, inv.dataRoot, createLogger());
  out(`norm stats: ${r.path}`);
}
