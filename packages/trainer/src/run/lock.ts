// One process per run directory. The lock is a directory `<realRunDir>.lock/` beside the run dir
// (so --overwrite cannot delete it), keyed on the run dir's real path (a symlinked exp dir locks the
// same directory). It holds numbered generation files `gen-000000000001`, …; the highest generation
// is the lock's state: `{pid, host, since, nonce}` for a holder, `{released: true}` once released.
//
// Acquiring is a compare-and-swap on the generation number, built from atomic file-system steps
// only: read the highest generation g; if its holder is alive, refuse; otherwise (released, or a
// dead pid: SIGKILL, OOM) create generation g+1 with link(2), which fails if it exists, so exactly
// one contender creates it. The creator then checks that g+1 is still the highest generation
// (a contender working from an older listing can create a lower, already-cleaned-up number; it
// loses and removes it). Generation numbers never go down (the highest file is never deleted, only
// rewritten by its holder on release), so a stale listing can never win. Nothing is unlinked on the
// strength of a read that may have become outdated: the read → check pid → unlink → create race
// of a single lock file cannot happen.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { RunDirError, RunLockedError } from '../errors.js';

export interface RunLock {
  /** The lock directory (`<real run dir>.lock`). */
  path: string;
  release(): void;
}

interface Holder {
  pid?: number;
  host?: string;
  since?: string;
  nonce?: string;
  released?: boolean;
}

const GEN_RE = /^gen-(\d{12})$/;
const genName = (g: number): string => `gen-${String(g).padStart(12, '0')}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

/** The run dir's real path: symlinks in it (or in its parent, when it does not exist yet) resolved. */
export function realRunDir(runDir: string): string {
  const abs = resolve(runDir);
  try {
    return realpathSync(abs);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw fsError(err, `cannot resolve ${abs}`);
  }
  try {
    return join(realpathSync(dirname(abs)), basename(abs));
  } catch (err) {
    throw fsError(err, `cannot resolve the parent directory of ${abs}; create it first`);
  }
}

function fsError(err: unknown, what: string): RunDirError {
  const e = err as NodeJS.ErrnoException;
  return new RunDirError(`${what}: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' '), { cause: err });
}

/** Highest generation number in the lock dir (0 when there is none). */
function highest(lockDir: string): number {
  let max = 0;
  for (const name of readdirSync(lockDir)) {
    const m = GEN_RE.exec(name);
    if (m) max = Math.max(max, Number(m[1]));
  }
  return max;
}

/** The holder record of generation g, or null when that file is gone (cleaned up meanwhile). */
function readHolder(lockDir: string, g: number): Holder | null {
  let text: string;
  try {
    text = readFileSync(join(lockDir, genName(g)), 'utf8');
  } catch (err) {
    if (code(err) === 'ENOENT') return null;
    throw err;
  }
  try {
    const h = JSON.parse(text) as unknown;
    return h !== null && typeof h === 'object' ? (h as Holder) : {};
  } catch {
    return {}; // files are linked into place complete, so this is not a half-written record: treat as free
  }
}

/** Writes `content` to a fresh unique file in `dir` (fsynced) and returns its path. */
function writeTemp(dir: string, nonce: string, content: string): string {
  const tmp = join(dir, `tmp-${process.pid}-${nonce}`);
  const fd = openSync(tmp, 'wx');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if (code(err) !== 'ENOENT') throw err;
  }
}

/**
 * Locks `runDir` for this process, or throws RunLockedError naming the live holder. A lock left by
 * a process that is gone is taken over; of several processes taking over at once, exactly one wins.
 * File-system failures are RunDirErrors naming the lock. Released on `release()` or process exit.
 */
export function acquireRunLock(runDir: string): RunLock {
  const real = realRunDir(runDir);
  const lockDir = `${real}.lock`;
  try {
    return acquire(runDir, lockDir);
  } catch (err) {
    if (err instanceof RunDirError) throw err;
    throw fsError(err, `cannot lock ${runDir} (lock ${lockDir})`);
  }
}

function acquire(runDir: string, lockDir: string): RunLock {
  try {
    mkdirSync(lockDir);
  } catch (err) {
    if (code(err) !== 'EEXIST') throw err;
    if (!lstatSync(lockDir).isDirectory()) {
      throw new RunDirError(
        `${lockDir} is a lock file from an older vla-lora; if no run is using ${runDir}, delete ${lockDir} and start again`,
      );
    }
  }
  const nonce = `${Date.now().toString(36)}-${randomBytes(8).toString('hex')}`;
  const mine: Holder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), nonce };
  const tmp = writeTemp(lockDir, nonce, JSON.stringify(mine));
  try {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const g = highest(lockDir);
      if (g > 0) {
        const h = readHolder(lockDir, g);
        if (h === null) continue; // superseded while we looked: look again
        if (!h.released) {
          const sameHost = h.host === undefined || h.host === hostname();
          if (!sameHost) {
            throw new RunLockedError(
              `${runDir} is locked by ${h.host} (pid ${h.pid ?? '?'}); if that run is gone, delete ${lockDir}`,
            );
          }
          if (typeof h.pid === 'number' && h.pid !== process.pid && alive(h.pid)) {
            throw new RunLockedError(
              `${runDir} is in use by process ${h.pid} (lock ${lockDir}); wait for it to finish or stop it — two runs in one directory would overwrite each other's checkpoints`,
            );
          }
        }
      }
      // Free (released, or its process is gone): try to create the next generation.
      const next = join(lockDir, genName(g + 1));
      try {
        linkSync(tmp, next);
      } catch (err) {
        if (code(err) === 'EEXIST') continue; // another contender got g+1 first: judge it
        throw err;
      }
      if (highest(lockDir) !== g + 1) {
        // We worked from an outdated listing; a higher generation exists. Withdraw and look again.
        unlinkQuiet(next);
        continue;
      }
      // Ours. Older generations are history: remove them (never the highest one).
      for (const name of readdirSync(lockDir)) {
        const m = GEN_RE.exec(name);
        if (m && Number(m[1]) < g + 1) unlinkQuiet(join(lockDir, name));
      }
      return holding(lockDir, g + 1, nonce);
    }
    throw new RunDirError(
      `could not lock ${runDir}: ${lockDir} kept changing under 1000 attempts; is another run starting there in a loop?`,
    );
  } finally {
    unlinkQuiet(tmp);
  }
}

function holding(lockDir: string, g: number, nonce: string): RunLock {
  let released = false;
  const release = (): void => {
    if (released) return;
    released = true;
    process.off('exit', release);
    try {
      // Only while the generation is still ours (nobody takes over a live holder's lock).
      const h = readHolder(lockDir, g);
      if (h?.nonce !== nonce || highest(lockDir) !== g) return;
      const tmp = writeTemp(lockDir, `${nonce}-release`, JSON.stringify({ released: true }));
      renameSync(tmp, join(lockDir, genName(g)));
    } catch {
      // The lock dir is gone or unwritable: a process that finds our pid dead takes over anyway.
    }
  };
  process.on('exit', release);
  return { path: lockDir, release };
}
