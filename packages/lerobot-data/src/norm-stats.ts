// Normalisation statistics as openpi computes and stores them (scripts/compute_norm_stats.py,
// shared/normalize.py): mean/std from running sums, q01/q99 from 5000-bin running histograms
// that are re-binned when the range grows; written as {"norm_stats": {"state": {...}, "actions": {...}}}.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NormStatsError } from './errors.js';
import { writeFileAtomic } from '@vla-lora/checkpoint-io';
import { LiberoView, type LiberoNormStats, type LiberoOptions } from './libero.js';
import type { LeRobotDataset } from './dataset.js';
import type { NormStats } from './transforms.js';

const BINS = 5000;

/** openpi's RunningStats over vectors of a fixed length (batch dims flattened). */
export class RunningStats {
  private count = 0;
  private dim = -1;
  private mean!: Float64Array;
  private meanSq!: Float64Array;
  private min!: Float64Array;
  private max!: Float64Array;
  private hist!: Float64Array[];
  private edgesLo!: Float64Array;
  private edgesHi!: Float64Array;

  /** Adds `rows` vectors of `dim` values (row-major). */
  update(values: ArrayLike<number>, dim: number): void {
    const rows = values.length / dim;
    if (!Number.isInteger(rows) || rows === 0)
      throw new RangeError(`update needs a non-empty [rows × ${dim}] batch (got ${values.length} values)`);
    const bMin = new Float64Array(dim).fill(Infinity);
    const bMax = new Float64Array(dim).fill(-Infinity);
    const bSum = new Float64Array(dim);
    const bSq = new Float64Array(dim);
    for (let r = 0; r < rows; r++) {
      for (let d = 0; d < dim; d++) {
        const x = values[r * dim + d]!;
        if (x < bMin[d]!) bMin[d] = x;
        if (x > bMax[d]!) bMax[d] = x;
        bSum[d] = bSum[d]! + x;
        bSq[d] = bSq[d]! + x * x;
      }
    }
    if (this.count === 0) {
      this.dim = dim;
      this.mean = bSum.map((s) => s / rows);
      this.meanSq = bSq.map((s) => s / rows);
      this.min = bMin;
      this.max = bMax;
      this.hist = Array.from({ length: dim }, () => new Float64Array(BINS));
      this.edgesLo = bMin.map((m) => m - 1e-10);
      this.edgesHi = bMax.map((m) => m + 1e-10);
    } else {
      if (dim !== this.dim) throw new RangeError(`vector length ${dim} does not match the first batch's ${this.dim}`);
      let changed = false;
      for (let d = 0; d < dim; d++) {
        if (bMax[d]! > this.max[d]!) {
          this.max[d] = bMax[d]!;
          changed = true;
        }
        if (bMin[d]! < this.min[d]!) {
          this.min[d] = bMin[d]!;
          changed = true;
        }
      }
      if (changed) this.rebin();
    }
    this.count += rows;
    for (let d = 0; d < dim; d++) {
      this.mean[d] = this.mean[d]! + (bSum[d]! / rows - this.mean[d]!) * (rows / this.count);
      this.meanSq[d] = this.meanSq[d]! + (bSq[d]! / rows - this.meanSq[d]!) * (rows / this.count);
    }
    for (let r = 0; r < rows; r++) for (let d = 0; d < dim; d++) this.addToHist(d, values[r * dim + d]!, 1);
  }

  /** Edge i of dim d as np.linspace(lo, hi, BINS + 1) computes it. */
  private edge(d: number, i: number): number {
    const lo = this.edgesLo[d]!;
    const hi = this.edgesHi[d]!;
    return i === BINS ? hi : i * ((hi - lo) / BINS) + lo;
  }

  /** The bin np.histogram puts x in for dim d's uniform edges (last bin closed), or -1 outside. */
  private bin(d: number, x: number): number {
    const lo = this.edgesLo[d]!;
    const hi = this.edgesHi[d]!;
    if (x < lo || x > hi) return -1;
    let i = Math.floor((x - lo) * (BINS / (hi - lo)));
    if (i >= BINS) i = BINS - 1;
    if (x < this.edge(d, i)) i--;
    else if (i !== BINS - 1 && x >= this.edge(d, i + 1)) i++;
    return Math.min(BINS - 1, Math.max(0, i));
  }

  private addToHist(d: number, x: number, w: number): void {
    const i = this.bin(d, x);
    if (i >= 0) this.hist[d]![i] = this.hist[d]![i]! + w;
  }

  /** openpi _adjust_histograms: old bin counts move to the new bin holding their left edge. */
  private rebin(): void {
    for (let d = 0; d < this.dim; d++) {
      const old = this.hist[d]!;
      const oldLeft = Float64Array.from({ length: BINS }, (_, i) => this.edge(d, i));
      this.hist[d] = new Float64Array(BINS);
      this.edgesLo[d] = this.min[d]! - 1e-10;
      this.edgesHi[d] = this.max[d]! + 1e-10;
      for (let i = 0; i < BINS; i++) {
        if (old[i] === 0) continue;
        this.addToHist(d, oldLeft[i]!, old[i]!);
      }
    }
  }

  /** mean, std (population), q01, q99 — as openpi's get_statistics. */
  statistics(): { mean: number[]; std: number[]; q01: number[]; q99: number[] } {
    if (this.count < 2)
      throw new NormStatsError(`cannot compute statistics from ${this.count} vector(s); need at least 2`);
    const std = Array.from(this.meanSq, (m2, d) => Math.sqrt(Math.max(0, m2 - this.mean[d]! ** 2)));
    return { mean: Array.from(this.mean), std, q01: this.quantile(0.01), q99: this.quantile(0.99) };
  }

  private quantile(q: number): number[] {
    const target = q * this.count;
    const out: number[] = [];
    for (let d = 0; d < this.dim; d++) {
      const h = this.hist[d]!;
      let cum = 0;
      let idx = BINS; // searchsorted(cumsum, target) — first index whose cumulative count reaches target
      for (let i = 0; i < BINS; i++) {
        cum += h[i]!;
        if (cum >= target) {
          idx = i;
          break;
        }
      }
      out.push(this.edge(d, idx));
    }
    return out;
  }
}

export interface ComputeNormStatsOptions extends Omit<LiberoOptions, 'normStats' | 'normMode' | 'modelActionDim'> {
  /** Frames per RunningStats update (openpi's batch; only the histogram re-binning depends on it). Default 32. */
  batchSize?: number;
  /** Stop after this many frames (openpi's max_frames); default all. */
  maxFrames?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface ComputedNormStats {
  state: Required<NormStats> & { mean: number[]; std: number[]; q01: number[]; q99: number[] };
  actions: Required<NormStats> & { mean: number[]; std: number[]; q01: number[]; q99: number[] };
}

/**
 * Statistics of `state` and of the action chunks (delta applied when configured), as openpi's
 * compute_norm_stats: over every frame of the dataset view in order, actions flattened over the chunk.
 */
export function computeNormStats(dataset: LeRobotDataset, opts: ComputeNormStatsOptions = {}): ComputedNormStats {
  const view = new LiberoView(dataset, { ...opts, modelActionDim: Number.MAX_SAFE_INTEGER });
  const total = Math.min(dataset.length, opts.maxFrames ?? Infinity);
  const batch = Math.max(1, opts.batchSize ?? 32);
  const stateStats = new RunningStats();
  const actionStats = new RunningStats();
  for (let start = 0; start < total; start += batch) {
    const end = Math.min(total, start + batch);
    const states = new Float32Array((end - start) * view.stateDim);
    const actions = new Float32Array((end - start) * view.actionHorizon * view.actionDim);
    for (let p = start; p < end; p++) {
      const raw = view.rawChunk(p);
      states.set(raw.state, (p - start) * view.stateDim);
      actions.set(raw.actions, (p - start) * view.actionHorizon * view.actionDim);
    }
    stateStats.update(states, view.stateDim);
    actionStats.update(actions, view.actionDim);
    opts.onProgress?.(end, total);
  }
  return { state: stateStats.statistics(), actions: actionStats.statistics() };
}

/** openpi's norm_stats.json text. */
export function serializeNormStats(stats: LiberoNormStats | ComputedNormStats): string {
  const plain = (s: NormStats): Record<string, number[]> => {
    const o: Record<string, number[]> = { mean: Array.from(s.mean), std: Array.from(s.std) };
    if (s.q01) o['q01'] = Array.from(s.q01);
    if (s.q99) o['q99'] = Array.from(s.q99);
    return o;
  };
  return `${JSON.stringify({ norm_stats: { state: plain(stats.state), actions: plain(stats.actions) } }, null, 2)}\n`;
}

async function resolveNormPath(pathOrDir: string): Promise<string> {
  if (pathOrDir.endsWith('.json')) return pathOrDir;
  const st = await stat(pathOrDir).catch(() => null);
  return st?.isDirectory() || st === null ? join(pathOrDir, 'norm_stats.json') : pathOrDir;
}

/** Writes norm_stats.json atomically (a directory → <dir>/norm_stats.json). Returns the file path. */
export async function writeNormStats(pathOrDir: string, stats: LiberoNormStats | ComputedNormStats): Promise<string> {
  const path = await resolveNormPath(pathOrDir);
  await writeFileAtomic(path, serializeNormStats(stats));
  return path;
}

function numbers(v: unknown, where: string): number[] {
  if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new NormStatsError(`${where} must be a non-empty list of finite numbers`);
  }
  return v as number[];
}

/** Parses openpi's norm_stats.json text; needs "state" and "actions" with mean and std (q01/q99 kept when present). */
export function parseNormStats(text: string, source = 'norm_stats.json'): LiberoNormStats {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new NormStatsError(`${source} is not valid JSON (${(err as Error).message})`);
  }
  const ns = (raw as { norm_stats?: unknown } | null)?.norm_stats;
  if (typeof ns !== 'object' || ns === null) throw new NormStatsError(`${source} has no "norm_stats" object`);
  const one = (key: 'state' | 'actions'): NormStats => {
    const s = (ns as Record<string, unknown>)[key] as Record<string, unknown> | undefined;
    if (!s) throw new NormStatsError(`${source} has no norm_stats.${key}`);
    const out: NormStats = {
      mean: numbers(s['mean'], `${source}: norm_stats.${key}.mean`),
      std: numbers(s['std'], `${source}: norm_stats.${key}.std`),
    };
    if (out.mean.length !== out.std.length)
      throw new NormStatsError(`${source}: norm_stats.${key} mean and std differ in length`);
    for (const q of ['q01', 'q99'] as const) {
      if (s[q] !== undefined && s[q] !== null) {
        out[q] = numbers(s[q], `${source}: norm_stats.${key}.${q}`);
        if (out[q].length !== out.mean.length)
          throw new NormStatsError(`${source}: norm_stats.${key}.${q} differs in length from mean`);
      }
    }
    return out;
  };
  return { state: one('state'), actions: one('actions') };
}

/** Reads norm_stats.json (a file, or a directory holding it). */
export async function loadNormStats(pathOrDir: string): Promise<LiberoNormStats> {
  const path = await resolveNormPath(pathOrDir);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NormStatsError(`${path} does not exist`);
    throw err;
  }
  return parseNormStats(text, path);
}
