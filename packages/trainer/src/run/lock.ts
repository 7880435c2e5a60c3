// One process per run directory: `<runDir>.lock` (a sibling, so --overwrite cannot delete it)
// holds the owner's pid. A lock whose process is gone (SIGKILL, OOM) is stale and taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { RunDirError } from '../errors.js';

export interface RunLock {
  path: string;
  release(): void;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function acquireRunLock(runDir: string): RunLock {
  const path = `${runDir}.lock`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString() }));
      closeSync(fd);
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        process.off('exit', release);
        try {
          unlinkSync(path);
        } catch {
          // already gone
        }
      };
      process.on('exit', release);
      return { path, release };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let owner: { pid?: number; host?: string } = {};
      try {
        owner = JSON.parse(readFileSync(path, 'utf8')) as { pid?: number; host?: string };
      } catch {
        // unreadable: treat as stale
      }
      const sameHost = owner.host === undefined || owner.host === hostname();
      if (typeof owner.pid === 'number' && sameHost && owner.pid !== process.pid && alive(owner.pid)) {
        throw new RunDirError(
          `${runDir} is in use by process ${owner.pid} (lock file ${path}); wait for it to finish or stop it — two runs in one directory would overwrite each other's checkpoints`,
        );
      }
      if (!sameHost) {
        throw new RunDirError(
          `${runDir} is locked by ${owner.host ?? 'another host'} (pid ${owner.pid ?? '?'}); if that run is gone, delete ${path}`,
        );
      }
      unlinkSync(path); // stale: its process is gone
    }
  }
  throw new RunDirError(`could not lock ${runDir} (${path} keeps reappearing); is another run starting there?`);
}
