// Training output: a progress bar on a TTY, JSON lines otherwise (one object per line, machine
// readable: {"event":"step",...} / {"event":"log","msg":...}).
import cliProgress from 'cli-progress';
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
  let bar: cliProgress.SingleBar | null = null;
  const write = (s: string) => {
    if (bar) bar.stop();
    stream.write(`${s}\n`);
    if (bar) {
      const b = bar as cliProgress.SingleBar & { value?: number; total?: number };
      bar = null;
      restart(b.value ?? 0, b.total ?? 0);
    }
  };
  let last: MetricRecord | null = null;
  const payload = (r: MetricRecord | null) => ({
    loss: num(r?.['loss']),
    lr: num(r?.['lr'], 3),
    sps: num(r?.['samples_per_s'], 3),
  });
  const restart = (value: number, total: number) => {
    bar = new cliProgress.SingleBar(
      {
        format: 'train |{bar}| {value}/{total} steps | loss {loss} | lr {lr} | {sps} samples/s | eta {eta_formatted}',
        stream: stream as NodeJS.WritableStream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, value, payload(last));
  };
  return {
    info: (msg) => write(msg),
    warn: (msg) => write(`warning: ${msg}`),
    step: (r, total) => {
      last = r;
      if (!bar) restart(r.step - 1, total);
      bar?.update(r.step, payload(r));
    },
    close: () => {
      bar?.stop();
      bar = null;
    },
  };
}
