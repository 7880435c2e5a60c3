// One episode's parquet file: checked against info.json, numeric columns decoded to typed arrays,
// image columns (struct<bytes, path> holding PNG) read on demand.
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import {
  BadImageError,
  FrameIndexError,
  MissingColumnError,
  ShapeMismatchError,
  UnsupportedFeatureError,
} from './errors.js';
import type { FeatureSpec, LeRobotInfo } from './meta.js';

/** Columns every LeRobot v2.x frame carries besides the features proper. */
export const BOOKKEEPING = ['timestamp', 'frame_index', 'episode_index', 'index', 'task_index'] as const;

const NUMERIC = new Set(['float32', 'float64', 'int64', 'int32', 'int16', 'int8', 'uint8', 'uint16', 'uint32', 'bool']);

export interface FeatureKinds {
  /** Numeric features other than the bookkeeping columns (state, actions, ...), with their flat size. */
  vectors: Array<{ key: string; dim: number }>;
  /** "image" dtype features. */
  images: Array<{ key: string; height: number; width: number }>;
}

/** Splits info.json features into vectors and images; rejects video features (no decoder here). */
export function classifyFeatures(info: LeRobotInfo): FeatureKinds {
  const vectors: FeatureKinds['vectors'] = [];
  const images: FeatureKinds['images'] = [];
  for (const [key, f] of Object.entries(info.features)) {
    if ((BOOKKEEPING as readonly string[]).includes(key)) continue;
    if (f.dtype === 'video') {
      throw new UnsupportedFeatureError(
        key,
        "is stored as video (mp4), which this reader does not decode; export the dataset with use_videos=False (images as PNG in parquet), as openpi's LIBERO conversion does",
      );
    }
    if (f.dtype === 'image') images.push({ key, ...imageSize(key, f) });
    else if (NUMERIC.has(f.dtype)) vectors.push({ key, dim: f.shape.reduce((a, b) => a * b, 1) });
    // strings and other dtypes are carried by LeRobot but not used for training; ignored.
  }
  return { vectors, images };
}

function imageSize(key: string, f: FeatureSpec): { height: number; width: number } {
  const names = Array.isArray(f.names) ? f.names : null;
  if (f.shape.length !== 3)
    throw new UnsupportedFeatureError(key, `image shape must have 3 dims (got ${JSON.stringify(f.shape)})`);
  const [a, b, c] = f.shape as [number, number, number];
  if (names && names[0] === 'channel') return { height: b, width: c };
  if (names && names[2] === 'channel') return { height: a, width: b };
  return c === 3 || c === 1 || c === 4 ? { height: a, width: b } : { height: b, width: c };
}

export interface EpisodeColumns {
  episodeIndex: number;
  path: string;
  length: number;
  timestamp: Float64Array;
  frameIndex: Int32Array;
  index: Float64Array;
  taskIndex: Int32Array;
  /** key → flat row-major [length × dim] values. */
  vectors: Map<string, { dim: number; data: Float32Array }>;
}

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return Number.NaN;
}

/** Top-level column names and their schema nodes. */
async function columnsOf(path: string): Promise<{
  names: string[];
  isStructWithBytes: (name: string) => boolean;
  file: Awaited<ReturnType<typeof asyncBufferFromFile>>;
  metadata: Awaited<ReturnType<typeof parquetMetadataAsync>>;
}> {
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const root = parquetSchema(metadata);
  const names = root.children.map((c) => c.element.name);
  const isStructWithBytes = (name: string): boolean => {
    const node = root.children.find((c) => c.element.name === name);
    return (
      node !== undefined && node.children.some((c) => c.element.name === 'bytes' && c.element.type === 'BYTE_ARRAY')
    );
  };
  return { names, isStructWithBytes, file, metadata };
}

/** Reads and checks the non-image columns of one episode file. */
export async function readEpisodeColumns(
  path: string,
  episodeIndex: number,
  expectedLength: number,
  firstGlobalIndex: number,
  info: LeRobotInfo,
  kinds: FeatureKinds,
): Promise<EpisodeColumns> {
  const { names, isStructWithBytes, file, metadata } = await columnsOf(path);
  const required = [...BOOKKEEPING, ...kinds.vectors.map((v) => v.key), ...kinds.images.map((i) => i.key)];
  for (const col of required) if (!names.includes(col)) throw new MissingColumnError(path, col, names);
  for (const img of kinds.images) {
    if (!isStructWithBytes(img.key))
      throw new ShapeMismatchError(
        path,
        img.key,
        'must be struct<bytes: binary, path: string> (LeRobot\'s "image" dtype)',
      );
  }
  const rows = Number(metadata.num_rows);
  if (rows !== expectedLength) {
    throw new FrameIndexError(
      path,
      `has ${rows} rows but meta/episodes.jsonl says episode ${episodeIndex} has length ${expectedLength}`,
    );
  }
  const columns = [...BOOKKEEPING, ...kinds.vectors.map((v) => v.key)];
  const objs = (await parquetReadObjects({ file, metadata, columns })) as Array<Record<string, unknown>>;
  const n = objs.length;
  const out: EpisodeColumns = {
    episodeIndex,
    path,
    length: n,
    timestamp: new Float64Array(n),
    frameIndex: new Int32Array(n),
    index: new Float64Array(n),
    taskIndex: new Int32Array(n),
    vectors: new Map(),
  };
  const scalar = (row: Record<string, unknown>, key: string, r: number): number => {
    let v = row[key];
    if (Array.isArray(v)) {
      if (v.length !== 1)
        throw new ShapeMismatchError(path, key, `row ${r} holds ${v.length} values where one is expected`);
      v = v[0];
    }
    const x = toNumber(v);
    if (!Number.isFinite(x)) throw new ShapeMismatchError(path, key, `row ${r} is not a number (${String(v)})`);
    return x;
  };
  for (let r = 0; r < n; r++) {
    const row = objs[r]!;
    out.timestamp[r] = scalar(row, 'timestamp', r);
    out.frameIndex[r] = scalar(row, 'frame_index', r);
    out.index[r] = scalar(row, 'index', r);
    out.taskIndex[r] = scalar(row, 'task_index', r);
    const ep = scalar(row, 'episode_index', r);
    if (ep !== episodeIndex)
      throw new FrameIndexError(path, `row ${r} has episode_index ${ep}, expected ${episodeIndex}`);
  }
  for (const { key, dim } of kinds.vectors) {
    const data = new Float32Array(n * dim);
    for (let r = 0; r < n; r++) {
      const v = objs[r]![key];
      const flat = Array.isArray(v) ? (v.flat(8) as unknown[]) : [v];
      if (flat.length !== dim) {
        throw new ShapeMismatchError(
          path,
          key,
          `row ${r} has ${flat.length} values but meta/info.json declares shape ${JSON.stringify(info.features[key]?.shape)} (${dim})`,
        );
      }
      for (let d = 0; d < dim; d++) {
        const x = toNumber(flat[d]);
        if (Number.isNaN(x))
          throw new ShapeMismatchError(path, key, `row ${r} element ${d} is not a number (${String(flat[d])})`);
        data[r * dim + d] = x;
      }
    }
    out.vectors.set(key, { dim, data });
  }
  checkBookkeeping(out, firstGlobalIndex, info.fps);
  return out;
}

function checkBookkeeping(ep: EpisodeColumns, firstGlobalIndex: number, fps: number): void {
  for (let r = 0; r < ep.length; r++) {
    if (ep.frameIndex[r] !== r)
      throw new FrameIndexError(
        ep.path,
        `frame_index at row ${r} is ${ep.frameIndex[r]}, expected ${r} (frames must be stored in order, starting at 0)`,
      );
    if (ep.index[r] !== firstGlobalIndex + r) {
      throw new FrameIndexError(
        ep.path,
        `index at row ${r} is ${ep.index[r]}, expected ${firstGlobalIndex + r} (global frame index = sum of earlier episode lengths + frame_index)`,
      );
    }
    if (r > 0) {
      const dt = ep.timestamp[r]! - ep.timestamp[r - 1]!;
      if (Math.abs(dt - 1 / fps) > 1e-4) {
        throw new FrameIndexError(
          ep.path,
          `timestamp jumps by ${dt.toFixed(6)} s between rows ${r - 1} and ${r}; fps=${fps} needs ${(1 / fps).toFixed(6)} s`,
        );
      }
    }
  }
}

/** PNG bytes of the requested image columns, one entry per row. */
export async function readEpisodeImageBytes(
  path: string,
  keys: string[],
  expectedLength: number,
): Promise<Map<string, Uint8Array[]>> {
  const { names, file, metadata } = await columnsOf(path);
  for (const k of keys) if (!names.includes(k)) throw new MissingColumnError(path, k, names);
  const objs = (await parquetReadObjects({ file, metadata, columns: keys, utf8: false })) as Array<
    Record<string, unknown>
  >;
  if (objs.length !== expectedLength)
    throw new FrameIndexError(path, `has ${objs.length} rows, expected ${expectedLength}`);
  const out = new Map<string, Uint8Array[]>();
  for (const k of keys) {
    out.set(
      k,
      objs.map((row, r) => {
        const cell = row[k] as { bytes?: unknown; path?: unknown } | null | undefined;
        const bytes = cell?.bytes;
        if (bytes instanceof Uint8Array && bytes.length > 0) return bytes;
        const p = cell?.path instanceof Uint8Array ? new TextDecoder().decode(cell.path) : cell?.path;
        throw new BadImageError(path, k, r, `has no embedded bytes${p ? ` (only a path: ${String(p)})` : ''}`);
      }),
    );
  }
  return out;
}
