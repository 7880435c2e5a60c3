// The one progress reporter of the @vla-lora CLIs: a bar on a TTY, one JSON-line shape otherwise.
import cliProgress from 'cli-progress';

/** Extra fields a caller attaches to an update (shown in the bar's tail, copied into the JSON line). */
export type ProgressFields = Record<string, string | number | boolean | null>;

/**
 * The one JSON line every @vla-lora CLI writes for progress when its stream is not a TTY:
 * `{"event":"progress","task":…,"done":…,"total":…,"unit":…,"elapsed_s":…, …fields}`.
 * `fields` are the caller's extras (e.g. `name`, `phase`, `tensors`); they never replace the six keys.
 */
export interface ProgressLine {
  event: 'progress';
  /** What is being done ("convert", "consolidating", "train", "episodes" …). */
  task: string;
  done: number;
  total: number;
  /** What `done` and `total` count: "bytes", "tensors", "steps", "episodes" … */
  unit: string;
  /** Seconds since the reporter was created (3 decimals). */
  elapsed_s: number;
  [field: string]: string | number | boolean | null;
}

export interface Progress {
  /** `done` of `total` so far, with optional extra fields. */
  update(done: number, fields?: ProgressFields): void;
  /** Ends the bar (writes nothing more); safe to call twice. */
  stop(): void;
}

export interface ProgressOptions {
  task: string;
  total: number;
  /** Default "items". "bytes" shows MB on the bar (the JSON line keeps bytes). */
  unit?: string;
  /** Default process.stderr (stdout stays data). */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Default 'auto': a bar when `stream.isTTY`, JSON lines otherwise; 'silent' writes nothing. */
  mode?: 'auto' | 'bar' | 'jsonl' | 'silent';
  /** Least milliseconds between two JSON lines (the first and the last, done === total, always go). Default 250. */
  intervalMs?: number;
  /** Field names shown after the counts on the bar (default: `name` when given). */
  barFields?: string[];
  /** Clock (tests). */
  now?: () => number;
}

const MB = 1024 * 1024;

/** Progress of one task: `update(done, fields)` as work advances, `stop()` at the end. */
export function createProgress(opts: ProgressOptions): Progress {
  const stream = opts.stream ?? process.stderr;
  const mode = opts.mode ?? 'auto';
  if (mode === 'silent') return { update() {}, stop() {} };
  const unit = opts.unit ?? 'items';
  if (mode === 'bar' || (mode === 'auto' && stream.isTTY)) return barProgress(opts, stream, unit);
  const now = opts.now ?? Date.now;
  const t0 = now();
  const interval = opts.intervalMs ?? 250;
  let last: number | null = null;
  return {
    update(done, fields) {
      const t = now();
      if (last !== null && done < opts.total && t - last < interval) return;
      last = t;
      const line: ProgressLine = {
        ...fields,
        event: 'progress',
        task: opts.task,
        done,
        total: opts.total,
        unit,
        elapsed_s: Math.round(t - t0) / 1000,
      };
      stream.write(`${JSON.stringify(line)}\n`);
    },
    stop() {},
  };
}

function barProgress(opts: ProgressOptions, stream: NodeJS.WritableStream, unit: string): Progress {
  const scale = unit === 'bytes' ? 1 / MB : 1;
  const shownUnit = unit === 'bytes' ? 'MB' : unit;
  const names = opts.barFields ?? ['name'];
  const bar = new cliProgress.SingleBar(
    {
      format: `${opts.task} [{bar}] {percentage}% | {shownDone}/{shownTotal} ${shownUnit} | {eta_formatted}{tail}`,
      stream,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  const shown = (n: number) => (scale === 1 ? String(n) : (n * scale).toFixed(1));
  let started = false;
  let stopped = false;
  const payload = (done: number, fields?: ProgressFields) => ({
    shownDone: shown(done),
    shownTotal: shown(opts.total),
    tail: names
      .filter((k) => fields?.[k] !== undefined)
      .map((k) => (k === 'name' ? ` | ${fields?.[k]}` : ` | ${k} ${fields?.[k]}`))
      .join(''),
  });
  return {
    update(done, fields) {
      if (stopped) return;
      if (!started) {
        bar.start(Math.max(opts.total, 1), done, payload(done, fields));
        started = true;
      } else bar.update(done, payload(done, fields));
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}

/** What zero-merge and dcp-merge report per tensor written. */
export interface TensorProgressEvent {
  tensors: number;
  totalTensors: number;
  /** Output bytes so far / in all. */
  bytes: number;
  totalBytes: number;
  name: string;
  phase?: string;
}

/**
 * A listener for per-tensor progress events: the shared reporter with `done`/`total` in bytes and
 * `tensors`, `totalTensors`, `name` (and `phase` when given) as fields. The reporter starts at the first event
 * (when the totals are known); `quiet` writes nothing.
 */
export function tensorProgress(
  task: string,
  opts: Omit<ProgressOptions, 'task' | 'total' | 'unit'> & { quiet?: boolean } = {},
): { listener: (e: TensorProgressEvent) => void; stop: () => void } {
  let progress: Progress | null = null;
  return {
    listener(e) {
      if (opts.quiet) return;
      progress ??= createProgress({
        ...opts,
        task,
        total: e.totalBytes,
        unit: 'bytes',
        barFields: ['tensors', 'name'],
      });
      const { bytes, totalBytes: _total, ...fields } = e;
      const { phase, ...rest } = fields;
      progress.update(bytes, phase === undefined ? rest : { phase, ...rest });
    },
    stop: () => progress?.stop(),
  };
}
