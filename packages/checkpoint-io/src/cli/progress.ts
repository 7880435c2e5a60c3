// Progress for long operations: a bar on an interactive terminal, JSON lines on stderr otherwise.
import cliProgress from 'cli-progress';

export interface Progress {
  update(done: number, info?: Record<string, string | number>): void;
  stop(): void;
}

export function createProgress(task: string, total: number, unit: 'bytes' | 'tensors' = 'bytes'): Progress {
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${task} [{bar}] {percentage}% | {value}/{total} ${unit === 'bytes' ? 'MB' : 'tensors'} | {name}`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    const scale = unit === 'bytes' ? 1 / (1024 * 1024) : 1;
    bar.start(Math.round(total * scale), 0, { name: '' });
    return {
      update: (done, info) => bar.update(Math.round(done * scale), { name: String(info?.['name'] ?? '') }),
      stop: () => bar.stop(),
    };
  }
  let lastEmit = 0;
  return {
    update(done, info) {
      const now = Date.now();
      if (done < total && now - lastEmit < 1000) return;
      lastEmit = now;
      process.stderr.write(`${JSON.stringify({ task, done, total, unit, ...info })}\n`);
    },
    stop() {},
  };
}
