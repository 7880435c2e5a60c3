// A fresh training run for the serve tests (tests only): the config's dataset and norm stats under
// <root>/data, then trainPi0 into <root>/runs/<name> (silent, no signal handlers), and the vla-serve
// arguments that serve it on a seeded base.
import { join } from 'node:path';
import { computeNormStatsForConfig, ensureDataset, trainPi0, type TrainConfig } from '@vla-lora/pi0';
import { createLogger } from '@vla-lora/trainer';
import { LOCAL_WASM } from './spawn.js';

export async function trainForServing(root: string, config: TrainConfig, name: string, tokenizer?: string) {
  const logger = createLogger({ mode: 'silent' });
  const dataRoot = join(root, 'data');
  const runDir = join(root, 'runs', name);
  await ensureDataset(config, dataRoot, logger);
  await computeNormStatsForConfig(config, dataRoot, logger);
  const trained = await trainPi0({
    config,
    runDir,
    dataRoot,
    resume: false,
    overwrite: true,
    ...(tokenizer !== undefined ? { tokenizer } : {}),
    logger,
    handleSignals: false,
  });
  return { trained, dataRoot, runDir, adapter: join(runDir, 'adapter') };
}

/** vla-serve on a seeded base with `adapter` (`extra` right after it), norm stats from `dataRoot`, any port, wasm. */
export function seededServeArgs(config: string, adapter: string, dataRoot: string, extra: string[] = []): string[] {
  return ['--config', config, '--seeded-base', '--adapter', adapter, ...extra, '--data-root', dataRoot, ...LOCAL_WASM];
}
