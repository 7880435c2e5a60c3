// The package's commands as functions (the train app calls these; the CLI wraps them).
import { join } from 'node:path';
import { LeRobotDataset } from './dataset.js';
import { computeNormStats, writeNormStats, type ComputedNormStats } from './norm-stats.js';
import type { ProgressFn } from './progress.js';

export interface ComputeNormStatsCommandOptions {
  /** Dataset root (holds meta/ and data/). */
  dataset: string;
  /** Output file or directory (default <dataset>/norm_stats.json). */
  out?: string;
  /** Episodes to use: a split name from info.json (openpi uses the training data; default "train" when the dataset has that split, else all). */
  split?: string;
  actionHorizon?: number;
  deltaActions?: boolean;
  maxFrames?: number;
  onProgress?: ProgressFn;
}

export interface ComputeNormStatsResult {
  path: string;
  frames: number;
  episodes: number;
  stats: ComputedNormStats;
}

/** compute-norm-stats: opens the dataset, computes openpi's stats, writes norm_stats.json atomically. */
export async function computeNormStatsCommand(opts: ComputeNormStatsCommandOptions): Promise<ComputeNormStatsResult> {
  const meta = await LeRobotDataset.open(opts.dataset, { episodes: [] });
  const split = opts.split ?? (meta.meta.info.splits['train'] !== undefined ? 'train' : undefined);
  const ds = await LeRobotDataset.open(opts.dataset, split ? { episodes: split } : {});
  const stats = computeNormStats(ds, {
    actionHorizon: opts.actionHorizon,
    deltaActions: opts.deltaActions,
    maxFrames: opts.maxFrames,
    onProgress: opts.onProgress,
  });
  const path = await writeNormStats(opts.out ?? join(opts.dataset, 'norm_stats.json'), stats);
  return { path, frames: Math.min(ds.length, opts.maxFrames ?? Infinity), episodes: ds.episodeIndices.length, stats };
}
