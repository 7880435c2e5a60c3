// Progress for long work: a bar on a TTY, JSON lines otherwise (stderr, so stdout stays data).

export type ProgressFn = (done: number, total: number) => void;

export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressFn {
  let last = -1;
  return (done, total) => {
    const pct = total > 0 ? Math.floor((done / total) * 100) : 100;
    if (pct === last && done !== total) return;
    const decile = Math.floor(pct / 10);
    const crossed = decile !== Math.floor(last / 10);
    last = pct;
    if (stream.isTTY) {
      const width = 30;
      const fill = Math.round((pct / 100) * width);
      stream.write(
        `\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total}${done === total ? '\n' : ''}`,
      );
    } else if (crossed || done === total) {
      stream.write(`${JSON.stringify({ event: 'progress', task: label, done, total })}\n`);
    }
  };
}
