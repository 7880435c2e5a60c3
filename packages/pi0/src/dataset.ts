// The data a config trains on: find it under the data root, generate the synthetic LIBERO task
// when the config says how, compute/load norm stats, open train and held-out views.
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  computeNormStatsCommand,
  generateLiberoDataset,
  LeRobotDataset,
  LiberoView,
  loadNormStats,
  type LiberoNormStats,
} from '@vla-lora/lerobot-data';
import { getPi0Config } from '@vla-lora/gemma-config';
import { Pi0ConfigError } from './errors.js';
import type { TrainLogger } from '@vla-lora/trainer';
import type { TrainConfig } from './config/index.js';

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

export function datasetRoot(cfg: TrainConfig, dataRoot: string): string {
  return resolve(dataRoot, cfg.data.repoId);
}

export interface EnsuredDataset {
  root: string;
  generated: boolean;
  trainEpisodes: number;
  heldOutEpisodes: number;
}

export async function ensureDataset(cfg: TrainConfig, dataRoot: string, logger: TrainLogger): Promise<EnsuredDataset> {
  const root = datasetRoot(cfg, dataRoot);
  let generated = false;
  if (!(await exists(join(root, 'meta', 'info.json')))) {
    const syn = cfg.data.synthetic;
    if (!syn) {
      throw new Pi0ConfigError(
        `no dataset at ${root} (meta/info.json missing); download ${cfg.data.repoId} in LeRobot v2 format there, or pass --data-root`,
      );
    }
    const pi0 = getPi0Config(cfg.model.pi0);
    logger.info(
      `generating the synthetic LIBERO dataset at ${root} (${syn.episodes} train + ${syn.heldOutEpisodes} held-out episodes, ${syn.steps} steps, ${syn.imageSize}px)`,
    );
    if (syn.imageSize !== pi0.siglip.imageSize)
      throw new Pi0ConfigError(
        `data.synthetic.imageSize ${syn.imageSize} differs from the model's ${pi0.siglip.imageSize}`,
      );
    await generateLiberoDataset(root, {
      episodes: syn.episodes,
      heldOut: syn.heldOutEpisodes,
      steps: syn.steps,
      imageSize: syn.imageSize,
      seed: syn.seed,
    });
    generated = true;
  }
  const meta = await LeRobotDataset.open(root, { episodes: [] });
  const splits = meta.meta.info.splits;
  const count = (name: string) => {
    const s = splits[name];
    if (!s) return 0;
    const m = /^(\d+):(\d+)$/.exec(s);
    return m ? Number(m[2]) - Number(m[1]) : 0;
  };
  const out = { root, generated, trainEpisodes: count('train'), heldOutEpisodes: count('test') };
  const syn = cfg.data.synthetic;
  if (syn && !generated && (out.trainEpisodes !== syn.episodes || out.heldOutEpisodes !== syn.heldOutEpisodes)) {
    logger.warn(
      `${root} holds ${out.trainEpisodes} train / ${out.heldOutEpisodes} held-out episodes, the config asks for ${syn.episodes} / ${syn.heldOutEpisodes}; using what is there (delete the folder to regenerate)`,
    );
  }
  return out;
}

export function normStatsPath(cfg: TrainConfig, dataRoot: string): string {
  return join(datasetRoot(cfg, dataRoot), 'norm_stats.json');
}

/** openpi's compute_norm_stats on the training split (state and action chunks). */
export async function computeNormStatsForConfig(
  cfg: TrainConfig,
  dataRoot: string,
  logger: TrainLogger,
): Promise<{ path: string; frames: number }> {
  const pi0 = getPi0Config(cfg.model.pi0);
  const r = await computeNormStatsCommand({
    dataset: datasetRoot(cfg, dataRoot),
    actionHorizon: pi0.actionHorizon,
    deltaActions: cfg.data.useDeltaActions,
  });
  logger.info(`norm stats: ${r.path} (${r.frames} frames of ${r.episodes} episodes)`);
  return { path: r.path, frames: r.frames };
}

export async function loadNormStatsFor(cfg: TrainConfig, dataRoot: string): Promise<LiberoNormStats> {
  const p = normStatsPath(cfg, dataRoot);
  if (!(await exists(p)))
    throw new Pi0ConfigError(`no norm stats at ${p}; run: vla-train compute-norm-stats ${cfg.name}`);
  return loadNormStats(p);
}

/** A LIBERO view of one split ('train' / 'test'), normalised and padded for the config's model. */
export async function openView(
  cfg: TrainConfig,
  dataRoot: string,
  split: 'train' | 'test',
  stats: LiberoNormStats,
): Promise<LiberoView> {
  const pi0 = getPi0Config(cfg.model.pi0);
  const ds = await LeRobotDataset.open(datasetRoot(cfg, dataRoot), { episodes: split });
  return new LiberoView(ds, {
    actionHorizon: pi0.actionHorizon,
    modelActionDim: pi0.actionDim,
    normStats: stats,
    deltaActions: cfg.data.useDeltaActions,
  });
}
