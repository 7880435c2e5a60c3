// SIGINT / SIGTERM: the first one asks the loop to stop after the current step and save a
// checkpoint; a second one exits at once (safe: saves are atomic, `latest` still names a whole one).
export type StopSignal = 'SIGINT' | 'SIGTERM';

export interface StopWatch {
  readonly requested: StopSignal | null;
  /** Removes the handlers. */
  dispose(): void;
}

export function watchStopSignals(onFirst?: (sig: StopSignal) => void): StopWatch {
  let requested: StopSignal | null = null;
  const handler = (sig: StopSignal) => {
    if (requested) {
      process.stderr.write(
        `\n${sig} again: exiting now without waiting for the checkpoint (the last complete one is kept)\n`,
      );
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    requested = sig;
    onFirst?.(sig);
  };
  const onInt = () => handler('SIGINT');
  const onTerm = () => handler('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);
  return {
    get requested() {
      return requested;
    },
    dispose() {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
    },
  };
}

/** Lets pending I/O and signal handlers run between steps (tfjs CPU/wasm kernels are synchronous). */
export const yieldToEventLoop = (): Promise<void> => new Promise((r) => setImmediate(r));
