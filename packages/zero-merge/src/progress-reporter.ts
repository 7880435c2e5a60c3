// CLI progress: a bar on a TTY, JSON lines (at most a few per second, plus the last) otherwise.
import cliProgress from 'cli-progress';
import type { ProgressEvent, ProgressListener } from './progress.js';

export interface Reporter {
  listener: ProgressListener;
  stop(): void;
}

function mb(n: number): string {
  return (n / 1e6).toFixed(1);
}

export function createReporter(stream: NodeJS.WriteStream, opts: { quiet?: boolean; label: string }): Reporter {
  if (opts.quiet) return { listener: () => undefined, stop: () => undefined };
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream,
        format: `${opts.label} [{bar}] {percentage}% | {mbDone}/{mbTotal} MB | {tensors}/{totalTensors} tensors | {eta_formatted}`,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      listener(e: ProgressEvent) {
        const payload = {
          mbDone: mb(e.bytes),
          mbTotal: mb(e.totalBytes),
          tensors: e.tensors,
          totalTensors: e.totalTensors,
        };
        if (!started) {
          bar.start(Math.max(e.totalBytes, 1), e.bytes, payload);
          started = true;
        } else bar.update(e.bytes, payload);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let last = 0;
  const t0 = Date.now();
  return {
    listener(e: ProgressEvent) {
      const now = Date.now();
      if (e.phase !== 'done' && e.tensors !== e.totalTensors && now - last < 250) return;
      last = now;
      stream.write(
        `${JSON.stringify({ event: 'progress', phase: e.phase, tensors: e.tensors, totalTensors: e.totalTensors, bytes: e.bytes, totalBytes: e.totalBytes, name: e.name, elapsedMs: now - t0 })}\n`,
      );
    },
    stop: () => undefined,
  };
}
