import { computeNormStatsForConfig, ensureDataset, trainConfigFor } from '@vla-lora/pi0';
import { createLogger } from '@vla-lora/trainer';
import type { Invocation } from '../args.js';

type Inv = Extract<Invocation, { kind: 'compute-norm-stats' }>;

export async function normStatsCommand(inv: Inv, out: (s: string) => void): Promise<void> {
  const cfg = trainConfigFor(inv.config, { set: inv.set });
  const logger = createLogger();
  await ensureDataset(cfg, inv.dataRoot, logger); // generates the synthetic data of demo configs; otherwise says where to put the dataset
  const r = await computeNormStatsForConfig(cfg, inv.dataRoot, logger);
  out(`norm stats: ${r.path}`);
}
