// meta/info.json, meta/episodes.jsonl, meta/tasks.jsonl, meta/stats.json (v2.0) and
// meta/episodes_stats.jsonl (v2.1): parsed and checked.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EpisodeIndexGapError, InvalidMetaError, MissingMetaFileError, UnsupportedVersionError } from './errors.js';

export type FeatureDtype =
  | 'float32'
  | 'float64'
  | 'int64'
  | 'int32'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool'
  | 'image'
  | 'video'
  | 'string';

export interface FeatureSpec {
  dtype: FeatureDtype | string;
  shape: number[];
  names: string[] | Record<string, string[]> | null;
  info?: Record<string, unknown>;
}

/** meta/info.json of a LeRobot v2.x dataset. */
export interface LeRobotInfo {
  codebase_version: 'v2.0' | 'v2.1';
  robot_type: string | null;
  total_episodes: number;
  total_frames: number;
  total_tasks: number;
  total_videos: number;
  total_chunks: number;
  chunks_size: number;
  fps: number;
  splits: Record<string, string>;
  data_path: string;
  video_path: string | null;
  features: Record<string, FeatureSpec>;
}

export interface EpisodeMeta {
  episode_index: number;
  tasks: string[];
  length: number;
}

export interface TaskMeta {
  task_index: number;
  task: string;
}

/** Per-feature statistics as LeRobot stores them (arrays nested like the feature's shape). */
export type FeatureStats = Record<
  string,
  { mean?: unknown; std?: unknown; min?: unknown; max?: unknown; count?: unknown }
>;

export interface EpisodeStats {
  episode_index: number;
  stats: FeatureStats;
}

export interface LeRobotMeta {
  root: string;
  info: LeRobotInfo;
  episodes: EpisodeMeta[];
  tasks: TaskMeta[];
  /** v2.0: meta/stats.json; v2.1: stats.json if present (LeRobot aggregates episodes_stats otherwise). */
  stats: FeatureStats | null;
  /** v2.1 only. */
  episodesStats: EpisodeStats[] | null;
}

async function readText(path: string, hint: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingMetaFileError(path, hint);
    throw err;
  }
}

async function readOptionalText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function parseJson(path: string, text: string, line?: number): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidMetaError(
      path,
      `${line !== undefined ? `line ${line}: ` : ''}invalid JSON (${(err as Error).message})`,
      { cause: err },
    );
  }
}

function parseJsonl(path: string, text: string): unknown[] {
  const out: unknown[] = [];
  text.split('\n').forEach((l, i) => {
    if (l.trim() !== '') out.push(parseJson(path, l, i + 1));
  });
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonNegInt(path: string, obj: Record<string, unknown>, key: string, where = ''): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new InvalidMetaError(path, `${where}"${key}" must be a non-negative integer (got ${JSON.stringify(v)})`);
  }
  return v;
}

/** Validates a parsed info.json. */
export function parseInfo(path: string, raw: unknown): LeRobotInfo {
  if (!isRecord(raw)) throw new InvalidMetaError(path, 'must be a JSON object');
  const version = raw['codebase_version'];
  if (typeof version !== 'string') throw new InvalidMetaError(path, '"codebase_version" is missing');
  if (version !== 'v2.0' && version !== 'v2.1') throw new UnsupportedVersionError(path, version);
  for (const k of ['total_episodes', 'total_frames', 'total_tasks', 'chunks_size'] as const) nonNegInt(path, raw, k);
  const fps = raw['fps'];
  if (typeof fps !== 'number' || !(fps > 0))
    throw new InvalidMetaError(path, `"fps" must be a positive number (got ${JSON.stringify(fps)})`);
  if (raw['chunks_size'] === 0) throw new InvalidMetaError(path, '"chunks_size" must be positive');
  const dataPath = raw['data_path'];
  if (typeof dataPath !== 'string' || !dataPath.includes('{episode_index')) {
    throw new InvalidMetaError(
      path,
      `"data_path" must be a template with {episode_index...} (got ${JSON.stringify(dataPath)})`,
    );
  }
  const features = raw['features'];
  if (!isRecord(features) || Object.keys(features).length === 0)
    throw new InvalidMetaError(path, '"features" must be a non-empty object');
  const parsed: Record<string, FeatureSpec> = {};
  for (const [name, f] of Object.entries(features)) {
    if (!isRecord(f)) throw new InvalidMetaError(path, `feature "${name}" must be an object`);
    const dtype = f['dtype'];
    const shape = f['shape'];
    if (typeof dtype !== 'string') throw new InvalidMetaError(path, `feature "${name}" has no "dtype"`);
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && (d as number) > 0)) {
      throw new InvalidMetaError(
        path,
        `feature "${name}" must have a "shape" of positive integers (got ${JSON.stringify(shape)})`,
      );
    }
    const names = f['names'];
    const spec: FeatureSpec = { dtype, shape: shape as number[], names: (names ?? null) as FeatureSpec['names'] };
    if (isRecord(f['info'])) spec.info = f['info'];
    parsed[name] = spec;
  }
  const splits = isRecord(raw['splits']) ? (raw['splits'] as Record<string, string>) : {};
  return {
    codebase_version: version,
    robot_type: typeof raw['robot_type'] === 'string' ? raw['robot_type'] : null,
    total_episodes: raw['total_episodes'] as number,
    total_frames: raw['total_frames'] as number,
    total_tasks: raw['total_tasks'] as number,
    total_videos: typeof raw['total_videos'] === 'number' ? raw['total_videos'] : 0,
    total_chunks: typeof raw['total_chunks'] === 'number' ? raw['total_chunks'] : 0,
    chunks_size: raw['chunks_size'] as number,
    fps,
    splits,
    data_path: dataPath,
    video_path: typeof raw['video_path'] === 'string' ? raw['video_path'] : null,
    features: parsed,
  };
}

function parseEpisodes(path: string, rows: unknown[], info: LeRobotInfo): EpisodeMeta[] {
  const eps = rows.map((r, i) => {
    if (!isRecord(r)) throw new InvalidMetaError(path, `line ${i + 1} must be a JSON object`);
    const where = `line ${i + 1}: `;
    const tasks = r['tasks'];
    if (!Array.isArray(tasks) || !tasks.every((t) => typeof t === 'string'))
      throw new InvalidMetaError(path, `${where}"tasks" must be a list of strings`);
    return {
      episode_index: nonNegInt(path, r, 'episode_index', where),
      tasks: tasks as string[],
      length: nonNegInt(path, r, 'length', where),
    };
  });
  eps.sort((a, b) => a.episode_index - b.episode_index);
  const seen = new Set<number>();
  const dup: number[] = [];
  for (const e of eps) {
    if (seen.has(e.episode_index)) dup.push(e.episode_index);
    seen.add(e.episode_index);
  }
  if (dup.length) throw new EpisodeIndexGapError(path, `episode_index ${dup.join(', ')} listed more than once`);
  const max = eps.length ? eps[eps.length - 1]!.episode_index : -1;
  const missing: number[] = [];
  for (let i = 0; i <= max && missing.length < 20; i++) if (!seen.has(i)) missing.push(i);
  if (missing.length)
    throw new EpisodeIndexGapError(
      path,
      `episode_index ${missing.join(', ')}${missing.length === 20 ? ', …' : ''} missing (highest listed: ${max})`,
    );
  if (eps.length !== info.total_episodes) {
    throw new EpisodeIndexGapError(
      path,
      `lists ${eps.length} episodes but meta/info.json says total_episodes=${info.total_episodes}`,
    );
  }
  const frames = eps.reduce((s, e) => s + e.length, 0);
  if (frames !== info.total_frames) {
    throw new InvalidMetaError(
      path,
      `episode lengths sum to ${frames} frames but meta/info.json says total_frames=${info.total_frames}`,
    );
  }
  return eps;
}

function parseTasks(path: string, rows: unknown[]): TaskMeta[] {
  const tasks = rows.map((r, i) => {
    if (!isRecord(r) || typeof r['task'] !== 'string')
      throw new InvalidMetaError(path, `line ${i + 1} must be {"task_index": n, "task": "..."}`);
    return { task_index: nonNegInt(path, r, 'task_index', `line ${i + 1}: `), task: r['task'] };
  });
  const seen = new Set<number>();
  for (const t of tasks) {
    if (seen.has(t.task_index)) throw new InvalidMetaError(path, `task_index ${t.task_index} listed more than once`);
    seen.add(t.task_index);
  }
  return tasks.sort((a, b) => a.task_index - b.task_index);
}

/** Reads and checks the meta folder of a LeRobot v2.0/v2.1 dataset rooted at `root`. */
export async function readMeta(root: string): Promise<LeRobotMeta> {
  const metaDir = join(root, 'meta');
  const infoPath = join(metaDir, 'info.json');
  const info = parseInfo(
    infoPath,
    parseJson(
      infoPath,
      await readText(infoPath, `is ${root} the root of a LeRobot v2.x dataset (it should hold meta/ and data/)?`),
    ),
  );
  const epPath = join(metaDir, 'episodes.jsonl');
  const episodes = parseEpisodes(
    epPath,
    parseJsonl(epPath, await readText(epPath, 'LeRobot v2.x lists every episode there: copy the whole meta/ folder')),
    info,
  );
  const taskPath = join(metaDir, 'tasks.jsonl');
  const tasks = parseTasks(
    taskPath,
    parseJsonl(
      taskPath,
      await readText(taskPath, 'LeRobot v2.x lists the task prompts there: copy the whole meta/ folder'),
    ),
  );
  if (tasks.length !== info.total_tasks)
    throw new InvalidMetaError(
      taskPath,
      `lists ${tasks.length} tasks but meta/info.json says total_tasks=${info.total_tasks}`,
    );
  const statsPath = join(metaDir, 'stats.json');
  const epStatsPath = join(metaDir, 'episodes_stats.jsonl');
  let stats: FeatureStats | null = null;
  let episodesStats: EpisodeStats[] | null = null;
  if (info.codebase_version === 'v2.0') {
    const raw = parseJson(
      statsPath,
      await readText(statsPath, 'a v2.0 dataset keeps its feature statistics there: copy the whole meta/ folder'),
    );
    if (!isRecord(raw)) throw new InvalidMetaError(statsPath, 'must be a JSON object of per-feature statistics');
    stats = raw as FeatureStats;
  } else {
    const text = await readText(
      epStatsPath,
      'a v2.1 dataset keeps per-episode statistics there: copy the whole meta/ folder',
    );
    episodesStats = parseJsonl(epStatsPath, text).map((r, i) => {
      if (!isRecord(r) || !isRecord(r['stats']))
        throw new InvalidMetaError(epStatsPath, `line ${i + 1} must be {"episode_index": n, "stats": {...}}`);
      return {
        episode_index: nonNegInt(epStatsPath, r, 'episode_index', `line ${i + 1}: `),
        stats: r['stats'] as FeatureStats,
      };
    });
    const statsText = await readOptionalText(statsPath);
    if (statsText !== null) {
      const raw = parseJson(statsPath, statsText);
      if (!isRecord(raw)) throw new InvalidMetaError(statsPath, 'must be a JSON object of per-feature statistics');
      stats = raw as FeatureStats;
    }
  }
  return { root, info, episodes, tasks, stats, episodesStats };
}

/** Episode indices of a split given as LeRobot writes it in info.json ("0:40", or "0:10,20:30"). */
export function parseSplit(info: LeRobotInfo, name: string, infoPath = 'meta/info.json'): number[] {
  const spec = info.splits[name];
  if (spec === undefined)
    throw new InvalidMetaError(
      infoPath,
      `no split "${name}" (splits: ${Object.keys(info.splits).join(', ') || 'none'})`,
    );
  const out: number[] = [];
  for (const part of String(spec).split(',')) {
    const m = /^\s*(\d+)\s*:\s*(\d+)\s*$/.exec(part);
    if (!m)
      throw new InvalidMetaError(infoPath, `split "${name}" must be "start:end" ranges (got ${JSON.stringify(spec)})`);
    const a = Number(m[1]);
    const b = Number(m[2]);
    if (b > info.total_episodes || a > b)
      throw new InvalidMetaError(infoPath, `split "${name}" range ${a}:${b} is outside 0:${info.total_episodes}`);
    for (let i = a; i < b; i++) out.push(i);
  }
  return out;
}
