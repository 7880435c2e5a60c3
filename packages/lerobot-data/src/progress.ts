// Progress for long work: cli-kit's one reporter (a bar on a TTY, its JSON line otherwise; stderr, so
// stdout stays data).
import { createProgress, type Progress } from '@vla-lora/cli-kit';

export type ProgressFn = (done: number, total: number) => void;

/** A `ProgressFn` for `label` (episodes, images, frames …) on `stream`, through @vla-lora/cli-kit's reporter. */
export function progressReporter(label: string, stream: NodeJS.WriteStream = process.stderr): ProgressFn {
  let progress: Progress | null = null;
  let total = -1;
  return (done, t) => {
    if (progress === null || t !== total) {
      progress?.stop();
      total = t;
      progress = createProgress({ task: label, total: t, unit: 'items', stream });
    }
    progress.update(done);
    if (done >= t) progress.stop();
  };
}
