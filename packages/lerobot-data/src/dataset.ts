// LeRobotDataset: a LeRobot v2.0/v2.1 dataset on disk. Numeric columns of the selected episodes are
// loaded and checked at open; PNG images are read per episode on demand (small LRU) and decoded per frame.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  classifyFeatures,
  readEpisodeColumns,
  readEpisodeImageBytes,
  type EpisodeColumns,
  type FeatureKinds,
} from './episode-file.js';
import {
  BadImageError,
  FrameIndexError,
  InvalidOptionError,
  MissingDataFileError,
  ShapeMismatchError,
} from './errors.js';
import { parseSplit, readMeta, type LeRobotMeta } from './meta.js';
import { decodePng, type RgbImage } from './png.js';
import { formatTemplate } from './template.js';

export interface OpenDatasetOptions {
  /** Which episodes: indices, or a split name from info.json (`"train"`, `"test"`). Default: all. */
  episodes?: number[] | string;
  /** Memory budget for the episodes' PNG bytes kept in memory, least recently used dropped first (default 256 MiB). */
  imageCacheBytes?: number;
  /** Called after each episode file is loaded. */
  onProgress?: (done: number, total: number) => void;
}

export interface Frame {
  /** Position in this dataset view (0..length-1). */
  position: number;
  /** LeRobot's global `index` column. */
  index: number;
  episodeIndex: number;
  frameIndex: number;
  timestamp: number;
  taskIndex: number;
  task: string;
  /** Numeric features (state, actions, ...), flat. */
  values: Record<string, Float32Array>;
  /** Decoded images (HWC RGB uint8), when requested. */
  images: Record<string, RgbImage>;
}

export class LeRobotDataset {
  /** Episode indices in this view, in order. */
  readonly episodeIndices: number[];
  /** Number of frames in this view. */
  readonly length: number;
  private readonly starts: number[];
  private readonly imageCache = new Map<number, { bytes: Map<string, Uint8Array[]>; size: number }>();
  private imageCacheSize = 0;
  private readonly taskByIndex: Map<number, string>;

  private constructor(
    readonly meta: LeRobotMeta,
    readonly kinds: FeatureKinds,
    private readonly episodesData: EpisodeColumns[],
    private readonly cacheBytes: number,
  ) {
    this.episodeIndices = episodesData.map((e) => e.episodeIndex);
    this.starts = [];
    let s = 0;
    for (const e of episodesData) {
      this.starts.push(s);
      s += e.length;
    }
    this.length = s;
    this.taskByIndex = new Map(meta.tasks.map((t) => [t.task_index, t.task]));
  }

  /** Opens the dataset rooted at `root` (the folder holding meta/ and data/). */
  static async open(root: string, opts: OpenDatasetOptions = {}): Promise<LeRobotDataset> {
    const meta = await readMeta(root);
    const kinds = classifyFeatures(meta.info);
    const all = meta.episodes;
    let selected: number[];
    if (opts.episodes === undefined) selected = all.map((e) => e.episode_index);
    else if (typeof opts.episodes === 'string')
      selected = parseSplit(meta.info, opts.episodes, join(root, 'meta', 'info.json'));
    else selected = [...opts.episodes];
    for (const e of selected) {
      if (!Number.isInteger(e) || e < 0 || e >= all.length)
        throw new InvalidOptionError(`episode ${e} is not in ${root} (it has episodes 0..${all.length - 1})`);
    }
    const firstIndex: number[] = [];
    let acc = 0;
    for (const e of all) {
      firstIndex.push(acc);
      acc += e.length;
    }
    const knownTasks = new Set(meta.tasks.map((t) => t.task_index));
    const data: EpisodeColumns[] = [];
    for (const [i, ep] of selected.entries()) {
      const path = episodePath(meta, ep);
      try {
        await access(path);
      } catch {
        throw new MissingDataFileError(path, ep);
      }
      const m = all[ep]!;
      const cols = await readEpisodeColumns(path, ep, m.length, firstIndex[ep]!, meta.info, kinds);
      for (let r = 0; r < cols.length; r++) {
        const ti = cols.taskIndex[r]!;
        if (!knownTasks.has(ti)) {
          throw new FrameIndexError(path, `task_index ${ti} at row ${r} is not in meta/tasks.jsonl`);
        }
      }
      data.push(cols);
      opts.onProgress?.(i + 1, selected.length);
    }
    return new LeRobotDataset(meta, kinds, data, Math.max(0, opts.imageCacheBytes ?? 256 * 1024 * 1024));
  }

  get fps(): number {
    return this.meta.info.fps;
  }

  /** Episode and row of a position in this view. */
  locate(position: number): { episode: EpisodeColumns; row: number } {
    if (!Number.isInteger(position) || position < 0 || position >= this.length) {
      throw new InvalidOptionError(`frame position ${position} is outside 0..${this.length - 1}`);
    }
    let lo = 0;
    let hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid]! <= position) lo = mid;
      else hi = mid - 1;
    }
    return { episode: this.episodesData[lo]!, row: position - this.starts[lo]! };
  }

  /** The loaded columns of every episode in this view. */
  episodes(): readonly EpisodeColumns[] {
    return this.episodesData;
  }

  /** Task prompt of a task index. */
  task(taskIndex: number): string {
    const t = this.taskByIndex.get(taskIndex);
    if (t === undefined) throw new InvalidOptionError(`task_index ${taskIndex} is not in meta/tasks.jsonl`);
    return t;
  }

  /** Flat values of numeric feature `key` at a row of an episode. */
  vector(episode: EpisodeColumns, key: string, row: number): Float32Array {
    const v = episode.vectors.get(key);
    if (v === undefined) {
      throw new InvalidOptionError(
        `feature "${key}" is not a numeric feature of this dataset (numeric features: ${this.kinds.vectors.map((x) => x.key).join(', ')})`,
      );
    }
    return v.data.subarray(row * v.dim, (row + 1) * v.dim);
  }

  /** One frame; `images: true` decodes every image feature, or pass the keys wanted. */
  async frame(position: number, opts: { images?: boolean | string[] } = {}): Promise<Frame> {
    const { episode, row } = this.locate(position);
    const values: Record<string, Float32Array> = {};
    for (const { key } of this.kinds.vectors) values[key] = this.vector(episode, key, row);
    const wanted =
      opts.images === true ? this.kinds.images.map((i) => i.key) : Array.isArray(opts.images) ? opts.images : [];
    const images: Record<string, RgbImage> = {};
    for (const key of wanted) images[key] = await this.image(episode, key, row);
    const taskIndex = episode.taskIndex[row]!;
    return {
      position,
      index: episode.index[row]!,
      episodeIndex: episode.episodeIndex,
      frameIndex: row,
      timestamp: episode.timestamp[row]!,
      taskIndex,
      task: this.task(taskIndex),
      values,
      images,
    };
  }

  /** Decodes image `key` at a row of an episode, checking its size against info.json. */
  async image(episode: EpisodeColumns, key: string, row: number): Promise<RgbImage> {
    const spec = this.kinds.images.find((i) => i.key === key);
    if (spec === undefined)
      throw new InvalidOptionError(
        `"${key}" is not an image feature (image features: ${this.kinds.images.map((i) => i.key).join(', ') || 'none'})`,
      );
    const bytes = (await this.imageBytes(episode))?.get(key)?.[row];
    if (bytes === undefined) throw new BadImageError(episode.path, key, row, 'is missing');
    let img: RgbImage;
    try {
      img = decodePng(bytes);
    } catch (err) {
      throw new BadImageError(episode.path, key, row, `is not a valid PNG (${(err as Error).message})`, { cause: err });
    }
    if (img.height !== spec.height || img.width !== spec.width) {
      throw new ShapeMismatchError(
        episode.path,
        key,
        `row ${row} decodes to ${img.height}x${img.width} but meta/info.json declares ${spec.height}x${spec.width}`,
      );
    }
    return img;
  }

  private async imageBytes(episode: EpisodeColumns): Promise<Map<string, Uint8Array[]>> {
    const hit = this.imageCache.get(episode.episodeIndex);
    if (hit) {
      this.imageCache.delete(episode.episodeIndex);
      this.imageCache.set(episode.episodeIndex, hit);
      return hit.bytes;
    }
    const bytes = await readEpisodeImageBytes(
      episode.path,
      this.kinds.images.map((i) => i.key),
      episode.length,
    );
    let size = 0;
    for (const list of bytes.values()) for (const b of list) size += b.byteLength;
    this.imageCache.set(episode.episodeIndex, { bytes, size });
    this.imageCacheSize += size;
    // drop least recently used episodes beyond the budget (the one just read always stays)
    for (const [ep, entry] of this.imageCache) {
      if (this.imageCacheSize <= this.cacheBytes || ep === episode.episodeIndex) break;
      this.imageCache.delete(ep);
      this.imageCacheSize -= entry.size;
    }
    return bytes;
  }

  /** Decodes every image of every frame (slow on big datasets): finds bad PNGs before training does. */
  async validateImages(onProgress?: (done: number, total: number) => void): Promise<number> {
    let n = 0;
    for (const [i, ep] of this.episodesData.entries()) {
      for (let r = 0; r < ep.length; r++)
        for (const { key } of this.kinds.images) {
          await this.image(ep, key, r);
          n++;
        }
      onProgress?.(i + 1, this.episodesData.length);
    }
    return n;
  }
}

/** Path of an episode's parquet file per info.json's data_path template. */
export function episodePath(meta: LeRobotMeta, episodeIndex: number): string {
  const rel = formatTemplate(meta.info.data_path, {
    episode_chunk: Math.floor(episodeIndex / meta.info.chunks_size),
    episode_index: episodeIndex,
  });
  return join(meta.root, rel);
}
