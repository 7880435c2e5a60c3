// Running a Python reference (torch, PEFT) from a test (`@vla-lora/vitest-config/oracle`): repo-only, a
// devDependency of each package, never in any dist.
import { spawnSync } from 'node:child_process';

/** Debian's Python, where the project's reference packages (python3-torch, ...) are installed. */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/**
 * Runs `script` with `/usr/bin/python3 -c`, `input` as JSON on its stdin, and returns its stdout parsed as JSON;
 * throws with Python's stderr when it exits non-zero.
 */
export function torchOracle<T>(script: string, input: unknown): T {
  const r = spawnSync(DEBIAN_PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 120_000,
    maxBuffer: 64 << 20,
  });
  if (r.status !== 0) throw new Error(`torch oracle failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}
