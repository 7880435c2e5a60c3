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
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnServe(args: string[]): ServeProcess {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: 'pipe', env: { ...process.env, VLA_DEBUG: '' } });
  let out = '';
  let err = '';
  let onOut: (() => void) | null = null;
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    onOut?.();
  });
  child.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const listening = new Promise<number>((resolve, reject) => {
    onOut = () => {
      const m = /listening on port (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    };
    void exited.then(({ code }) => reject(new Error(`vla-serve exited (${code}) before listening:\n${out}\n${err}`)));
  });
  listening.catch(() => {});
  return { child, stdout: () => out, stderr: () => err, listening, exited };
}
