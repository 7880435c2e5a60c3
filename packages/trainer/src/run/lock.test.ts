// The run-dir lock under real concurrency: separate processes (child_process) contend for locks
// left by a SIGKILLed holder; exactly one must win each round, and losers get typed errors only.
import { type ChildProcess, fork } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RunLockedError } from '../errors.js';
import { acquireRunLock } from './lock.js';
import { prepareRunDir } from './run-dir.js';

const contenderScript = fileURLToPath(new URL('../../test-support/lock-contender.ts', import.meta.url));
type Reply = { ready?: boolean; won?: boolean; released?: boolean; error?: string; message?: string; pid: number };

class Contender {
  readonly proc: ChildProcess;
  private waiters: Array<(r: Reply) => void> = [];
  constructor() {
    this.proc = fork(contenderScript, [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    this.proc.on('message', (r: Reply) => this.waiters.shift()?.(r));
  }
  next(): Promise<Reply> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  ask(m: unknown): Promise<Reply> {
    const r = this.next();
    this.proc.send(m as object);
    return r;
  }
}

let root: string;
const ROUNDS = 25;
const N = 6;
let contenders: Contender[] = [];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'run-lock-'));
});
afterEach(() => {
  for (const c of contenders) c.proc.kill('SIGKILL');
  contenders = [];
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function spawnContenders(n: number): Promise<Contender[]> {
  const cs = Array.from({ length: n }, () => new Contender());
  await Promise.all(cs.map((c) => c.next()));
  contenders.push(...cs);
  return cs;
}

describe('run-dir lock', () => {
  it(`stale takeover: ${N} processes × ${ROUNDS} rounds on locks of a SIGKILLed holder → exactly one wins, typed errors only`, async () => {
    const dirs = Array.from({ length: ROUNDS }, (_, i) => join(root, `round-${i}`));
    // One holder takes every lock, then dies by SIGKILL: all of them are stale.
    const [victim] = await spawnContenders(1);
    for (const d of dirs) expect(await victim!.ask({ lock: d })).toMatchObject({ won: true });
    const died = new Promise((r) => victim!.proc.once('exit', r));
    victim!.proc.kill('SIGKILL');
    await died;

    const cs = await spawnContenders(N);
    const outcomes: string[] = [];
    for (const d of dirs) {
      const replies = await Promise.all(cs.map((c) => c.ask({ lock: d })));
      const winners = replies.filter((r) => r.won);
      const raw = replies.filter((r) => !r.won && r.error !== 'RunLockedError');
      outcomes.push(`${winners.length} won; ${raw.map((r) => `${r.error}: ${r.message}`).join(' | ')}`);
      expect(raw, 'losers must get RunLockedError only').toEqual([]);
      expect(winners.length, `round ${d}`).toBe(1);
      for (const r of replies.filter((x) => !x.won))
        expect(r.message).toContain(`in use by process ${winners[0]!.pid}`);
      await Promise.all(cs.map((c) => c.ask('release')));
    }
    expect(outcomes.every((o) => o.startsWith('1 won'))).toBe(true);
  }, 60_000);

  it('keys on the real path: a second trainer through a symlinked exp dir is refused', async () => {
    const real = join(root, 'data', 'exp');
    await mkdir(real, { recursive: true });
    const link = join(root, 'exp-link');
    await symlink(real, link);
    const [holder] = await spawnContenders(1);
    expect(await holder!.ask({ hold: real })).toMatchObject({ won: true });
    expect(() => acquireRunLock(link)).toThrow(RunLockedError);
    await expect(prepareRunDir(link, { resume: false, overwrite: true, config: {} })).rejects.toThrow(
      /in use by process/,
    );
    // A symlinked parent directory too.
    const parentLink = join(root, 'data-link');
    await symlink(join(root, 'data'), parentLink);
    expect(() => acquireRunLock(join(parentLink, 'exp'))).toThrow(RunLockedError);
    await holder!.ask('release');
    const mine = acquireRunLock(link);
    mine.release();
  });

  it('release frees the lock for the next run; --overwrite through a symlink keeps the link', async () => {
    const real = join(root, 'data2', 'exp');
    await mkdir(join(real, 'checkpoints'), { recursive: true });
    const link = join(root, 'exp2-link');
    await symlink(real, link);
    const p = await prepareRunDir(link, { resume: false, overwrite: true, config: {} });
    expect(await readdir(real)).toEqual([]);
    p.release();
    const again = await prepareRunDir(link, { resume: false, overwrite: false, config: {} });
    again.release();
  });
});
