// Training output: cli-kit's progress bar on a TTY, JSON lines otherwise (one object per line, machine
// readable: {"event":"step",...} / {"event":"log","msg":...}).
import { createProgress, type Progress } from '@vla-lora/cli-kit';
import type { JsonValue, MetricRecord } from '@vla-lora/checkpoint-io';

export interface TrainLogger {
  /** A human line (startup report, checkpoint saved ...). `fields` go into the JSON line as-is. */
  info(msg: string, fields?: Record<string, JsonValue>): void;
  warn(msg: string): void;
  /** Called after each optimizer step. */
  step(record: MetricRecord, totalSteps: number): void;
  /** Ends the progress bar (if any). */
  close(): void;
}

export interface LoggerOptions {
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Force the mode; default: bar when `stream.isTTY`. */
  mode?: 'bar' | 'jsonl' | 'silent';
  /** Steps between step lines in jsonl mode (default 1). */
  every?: number;
}

const num = (v: JsonValue | undefined, digits = 4) => (typeof v === 'number' ? v.toPrecision(digits) : '-');

export function createLogger(opts: LoggerOptions = {}): TrainLogger {
  const stream = opts.stream ?? process.stdout;
  const mode = opts.mode ?? (stream.isTTY ? 'bar' : 'jsonl');
  const every = Math.max(1, opts.every ?? 1);
  if (mode === 'silent') return { info() {}, warn() {}, step() {}, close() {} };
  if (mode === 'jsonl') {
    const line = (o: Record<string, JsonValue>) => stream.write(`${JSON.stringify(o)}\n`);
    return {
      info: (msg, fields) => line({ event: 'log', msg, ...(fields ?? {}) }),
      warn: (msg) => line({ event: 'warning', msg }),
      step: (r, total) => {
        if (r.step % every === 0 || r.step === total) line({ event: 'step', total_steps: total, ...r });
      },
      close() {},
    };
  }
  let bar: Progress | null = null;
  let value = 0;
  let total = 0;
  let last: MetricRecord | null = null;
  const payload = (r: MetricRecord | null) => ({
    loss: num(r?.['loss']),
    lr: num(r?.['lr'], 3),
    'samples/s': num(r?.['samples_per_s'], 3),
  });
  const restart = () => {
    bar = createProgress({
      task: 'train',
      total,
      unit: 'steps',
      stream,
      mode: 'bar',
      barFields: ['loss', 'lr', 'samples/s'],
    });
    bar.update(value, payload(last));
  };
  // A line while the bar is drawn: stop the bar, write the line, draw the bar again below it.
  const write = (s: string) => {
    const had = bar !== null;
    bar?.stop();
    bar = null;
    stream.write(`${s}\n`);
    if (had) restart();
  };
  return {
    info: (msg) => write(msg),
    warn: (msg) => write(`warning: ${msg}`),
    step: (r, totalSteps) => {
      last = r;
      total = totalSteps;
      value = r.step;
      if (!bar) restart();
      else bar.update(r.step, payload(r));
    },
    close: () => {
      bar?.stop();
      bar = null;
    },
  };
}
