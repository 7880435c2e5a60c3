// Writes a small LIBERO-format LeRobot v2.x dataset (openpi's LIBERO layout: image, wrist_image,
// state (8), actions (7), PNG images in parquet) from the simulated task in sim-task.ts.
// Train episodes come first, held-out episodes after; info.json "splits" says which is which.
import { existsSync } from 'node:fs';
import { writeFile, mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { withAtomicDir } from '@vla-lora/checkpoint-io';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { InvalidOptionError } from './errors.js';
import { imageStats, vectorStats, type StatsAccumulator } from './feature-stats.js';
import type { LeRobotInfo } from './meta.js';
import { encodePng } from './png.js';
import { Rng } from './rng.js';
import { SIM_TASKS, simulateEpisode } from './sim-task.js';
import { formatTemplate } from './template.js';

export interface GenerateLiberoOptions {
  /** Training episodes (default 50). */
  episodes?: number;
  /** Frames per episode (default 40). */
  steps?: number;
  /** Square image side in pixels (default 32). */
  imageSize?: number;
  /** Seed: same seed and options → byte-identical dataset (default 0). */
  seed?: number;
  /** Held-out episodes, written after the training ones as split "test" (default max(2, episodes/5)). */
  heldOut?: number;
  /** Episodes per data/chunk-XXX folder (default 1000, LeRobot's). */
  chunksSize?: number;
  /** v2.1 (episodes_stats.jsonl + stats.json, default) or v2.0 (stats.json). */
  codebaseVersion?: 'v2.0' | 'v2.1';
  /** Replace `dir` if it exists (default false: refuse). */
  overwrite?: boolean;
  /** Demonstrator action noise (default 0.02). */
  actionNoise?: number;
}

export interface GeneratedDataset {
  root: string;
  trainEpisodes: number[];
  heldOutEpisodes: number[];
  totalFrames: number;
}

/** Random stream ids: held-out episodes do not change when the number of training episodes does. */
const HELD_OUT_STREAM = 1_000_000;
const FPS = 10;

const FEATURES: LeRobotInfo['features'] = {
  image: { dtype: 'image', shape: [0, 0, 3], names: ['height', 'width', 'channel'] },
  wrist_image: { dtype: 'image', shape: [0, 0, 3], names: ['height', 'width', 'channel'] },
  state: { dtype: 'float32', shape: [8], names: ['state'] },
  actions: { dtype: 'float32', shape: [7], names: ['actions'] },
  timestamp: { dtype: 'float32', shape: [1], names: null },
  frame_index: { dtype: 'int64', shape: [1], names: null },
  episode_index: { dtype: 'int64', shape: [1], names: null },
  index: { dtype: 'int64', shape: [1], names: null },
  task_index: { dtype: 'int64', shape: [1], names: null },
};

/** The parquet schema Arrow/HF datasets writes for these features (list<float>, struct<bytes, path>). */
export function parquetSchemaElements(): SchemaElement[] {
  const image = (name: string): SchemaElement[] => [
    { name, repetition_type: 'OPTIONAL', num_children: 2 },
    { name: 'bytes', type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' },
    { name: 'path', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  ];
  const list = (name: string): SchemaElement[] => [
    { name, repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
    { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
    { name: 'element', type: 'FLOAT', repetition_type: 'OPTIONAL' },
  ];
  return [
    { name: 'schema', num_children: 9 },
    ...image('image'),
    ...image('wrist_image'),
    ...list('state'),
    ...list('actions'),
    { name: 'timestamp', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    { name: 'frame_index', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 'episode_index', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 'index', type: 'INT64', repetition_type: 'OPTIONAL' },
    { name: 'task_index', type: 'INT64', repetition_type: 'OPTIONAL' },
  ];
}

/**
 * The `huggingface` key-value metadata HF datasets writes into every parquet file (LeRobot's
 * `to_parquet`): with it, `datasets.load_dataset("parquet", ...)` (LeRobot v2.x's loader) restores
 * Image features for the struct<bytes, path> columns and fixed-length sequences for state/actions.
 */
export function huggingfaceMetadata(features: LeRobotInfo['features']): string {
  const hf: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(features)) {
    if (f.dtype === 'image') hf[key] = { _type: 'Image' };
    else if (f.shape.length === 1 && f.shape[0] === 1) hf[key] = { dtype: f.dtype, _type: 'Value' };
    else hf[key] = { feature: { dtype: f.dtype, _type: 'Value' }, length: f.shape[0], _type: 'Sequence' };
  }
  return JSON.stringify({ info: { features: hf } });
}

function checkInt(name: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw new InvalidOptionError(`${name} must be an integer ≥ ${min} (got ${v})`);
  return v;
}

/** Generates the dataset into `dir` (atomically: a complete folder appears, or nothing). */
export async function generateLiberoDataset(dir: string, opts: GenerateLiberoOptions = {}): Promise<GeneratedDataset> {
  const episodes = checkInt('episodes', opts.episodes ?? 50, 1);
  const steps = checkInt('steps', opts.steps ?? 40, 2);
  const size = checkInt('imageSize', opts.imageSize ?? 32, 8);
  const heldOut = checkInt('heldOut', opts.heldOut ?? Math.max(2, Math.round(episodes / 5)), 0);
  const chunksSize = checkInt('chunksSize', opts.chunksSize ?? 1000, 1);
  const seed = opts.seed ?? 0;
  const version = opts.codebaseVersion ?? 'v2.1';
  const total = episodes + heldOut;
  const features = structuredClone(FEATURES);
  features['image']!.shape = [size, size, 3];
  features['wrist_image']!.shape = [size, size, 3];
  const dataPath = 'data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet';
  const schema = parquetSchemaElements();
  const kvMetadata = [{ key: 'huggingface', value: huggingfaceMetadata(features) }];
  if (!opts.overwrite && existsSync(dir)) {
    throw new InvalidOptionError(`${dir} already exists; pass overwrite: true (--overwrite) to replace it`);
  }

  await withAtomicDir(
    dir,
    async (tmp) => {
      const episodeLines: string[] = [];
      const episodeStatsLines: string[] = [];
      const global = newAccumulators();
      for (let ep = 0; ep < total; ep++) {
        const stream = ep < episodes ? ep : HELD_OUT_STREAM + (ep - episodes);
        const rng = new Rng(seed, stream);
        const { scene, frames } = simulateEpisode(rng, steps, size, opts.actionNoise ?? 0.02);
        const first = ep * steps;
        const local = newAccumulators();
        const rows = frames.map((f, t) => {
          const ts = Math.fround(t / FPS);
          for (const acc of [local, global]) {
            acc['image']!.add(f.image.data);
            acc['wrist_image']!.add(f.wrist.data);
            acc['state']!.add(f.state);
            acc['actions']!.add(f.action);
            acc['timestamp']!.add([ts]);
            acc['frame_index']!.add([t]);
            acc['episode_index']!.add([ep]);
            acc['index']!.add([first + t]);
            acc['task_index']!.add([scene.taskIndex]);
          }
          return {
            image: { bytes: encodePng(f.image), path: `frame_${String(t).padStart(6, '0')}.png` },
            wrist_image: { bytes: encodePng(f.wrist), path: `frame_${String(t).padStart(6, '0')}.png` },
            state: Array.from(f.state),
            actions: Array.from(f.action),
            timestamp: ts,
            t,
          };
        });
        const buf = parquetWriteBuffer({
          columnData: [
            { name: 'image', data: rows.map((r) => r.image) },
            { name: 'wrist_image', data: rows.map((r) => r.wrist_image) },
            { name: 'state', data: rows.map((r) => r.state) },
            { name: 'actions', data: rows.map((r) => r.actions) },
            { name: 'timestamp', data: rows.map((r) => r.timestamp) },
            { name: 'frame_index', data: rows.map((r) => BigInt(r.t)) },
            { name: 'episode_index', data: rows.map(() => BigInt(ep)) },
            { name: 'index', data: rows.map((r) => BigInt(first + r.t)) },
            { name: 'task_index', data: rows.map(() => BigInt(scene.taskIndex)) },
          ],
          schema,
          kvMetadata,
        });
        const file = join(
          tmp,
          formatTemplate(dataPath, { episode_chunk: Math.floor(ep / chunksSize), episode_index: ep }),
        );
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, new Uint8Array(buf));
        episodeLines.push(JSON.stringify({ episode_index: ep, tasks: [SIM_TASKS[scene.taskIndex]], length: steps }));
        episodeStatsLines.push(JSON.stringify({ episode_index: ep, stats: results(local) }));
      }
      // tasks.jsonl lists every task of the task family so that task_index is stable across seeds.
      const tasks = SIM_TASKS.map((task, task_index) => JSON.stringify({ task_index, task }));
      const info: LeRobotInfo = {
        codebase_version: version,
        robot_type: 'panda',
        total_episodes: total,
        total_frames: total * steps,
        total_tasks: SIM_TASKS.length,
        total_videos: 0,
        total_chunks: Math.ceil(total / chunksSize),
        chunks_size: chunksSize,
        fps: FPS,
        splits: heldOut > 0 ? { train: `0:${episodes}`, test: `${episodes}:${total}` } : { train: `0:${episodes}` },
        data_path: dataPath,
        video_path: null,
        features,
      };
      await mkdir(join(tmp, 'meta'), { recursive: true });
      await writeFile(join(tmp, 'meta', 'info.json'), `${JSON.stringify(info, null, 4)}\n`);
      await writeFile(join(tmp, 'meta', 'episodes.jsonl'), `${episodeLines.join('\n')}\n`);
      await writeFile(join(tmp, 'meta', 'tasks.jsonl'), `${tasks.join('\n')}\n`);
      await writeFile(join(tmp, 'meta', 'stats.json'), `${JSON.stringify(results(global), null, 4)}\n`);
      if (version === 'v2.1')
        await writeFile(join(tmp, 'meta', 'episodes_stats.jsonl'), `${episodeStatsLines.join('\n')}\n`);
    },
    { replace: opts.overwrite ?? false },
  );
  return {
    root: dir,
    trainEpisodes: Array.from({ length: episodes }, (_, i) => i),
    heldOutEpisodes: Array.from({ length: heldOut }, (_, i) => episodes + i),
    totalFrames: total * steps,
  };
}

function newAccumulators(): Record<string, StatsAccumulator> {
  return {
    image: imageStats(),
    wrist_image: imageStats(),
    state: vectorStats(8),
    actions: vectorStats(7),
    timestamp: vectorStats(1),
    frame_index: vectorStats(1),
    episode_index: vectorStats(1),
    index: vectorStats(1),
    task_index: vectorStats(1),
  };
}

function results(acc: Record<string, StatsAccumulator>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(acc).map(([k, a]) => [k, a.result()]));
}
