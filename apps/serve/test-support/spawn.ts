// Runs the real vla-serve bin as a child process (tests only).
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../bin/vla-serve.mjs', import.meta.url));

/** The tests' listening arguments: loopback, any free port, the wasm backend. */
export const LOCAL_WASM = ['--host', '127.0.0.1', '--port', '0', '--backend', 'wasm'];

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves with the port once it listens; rejects with the output if it exits first. */
  listening: Promise<number>;
  /** Resolves once stdout matches `re` (rejects if the process exits first). */
  printed(re: RegExp): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnServe(args: string[]): ServeProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'pipe', env: { ...process.env, VLA_DEBUG: '' } });
  let out = '';
  let err = '';
  const onOut = new Set<() => void>();
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const f of onOut) f();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const printed = (re: RegExp): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!re.test(out)) return;
        onOut.delete(check);
        resolve();
      };
      onOut.add(check);
      check();
      void exited.then(({ code }) =>
        reject(new Error(`vla-serve exited (${code}) before printing ${re}:\n${out}\n${err}`)),
      );
    });
  const listening = printed(/listening on port \d+/).then(() => Number(/listening on port (\d+)/.exec(out)![1]));
  listening.catch(() => {});
  return { child, stdout: () => out, stderr: () => err, listening, printed, exited };
}
