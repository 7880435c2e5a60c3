// Test helper (not shipped): hostile checkpoints written by the real CPython pickle / torch.save (see
// hostile-pt.py). Returns undefined when /usr/bin/python3 is missing, so callers can skip visibly.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./hostile-pt.py', import.meta.url));

export interface HostileFiles {
  dir: string;
  /** A file that exists only if something ran a payload. */
  marker: string;
  /** Names written (torch-zip.pt, torch-legacy.pt and adapter/ only when torch imports). */
  written: string[];
  hasTorch: boolean;
}

export function hasPython(): boolean {
  return spawnSync(PYTHON, ['-c', 'import pickle'], { encoding: 'utf8' }).status === 0;
}

export function makeHostileFiles(dir: string): HostileFiles {
  const marker = join(dir, 'PWNED');
  const r = spawnSync(PYTHON, [SCRIPT, dir, marker], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`hostile-pt.py failed: ${r.stderr}`);
  const written = r.stdout.trim().split('\n');
  return { dir, marker, written, hasTorch: written.includes('torch-zip.pt') };
}
