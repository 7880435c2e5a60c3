import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoCheckpointError } from '@vla-lora/checkpoint-io';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RunDirError } from '../errors.js';
import { prepareRunDir, runRequestProblem } from './run-dir.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'run-dir-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('prepareRunDir', () => {
  it('creates a fresh run dir; refuses an existing one without a flag', async () => {
    const dir = join(root, 'cfg', 'exp');
    const p = await prepareRunDir(dir, { resume: false, overwrite: false, config: {} });
    expect(p.resumeFrom).toBeNull();
    await writeFile(join(dir, 'metrics.jsonl'), '');
    await mkdir(join(dir, 'adapter')); // a finished run (one with no checkpoint at all is restarted: below)
    p.release();
    await expect(prepareRunDir(dir, { resume: false, overwrite: false, config: {} })).rejects.toThrow(
      /--resume to continue it or --overwrite/,
    );
  });
  it('--overwrite deletes a run dir, but never one holding foreign files', async () => {
    const dir = join(root, 'exp');
    await mkdir(join(dir, 'checkpoints'), { recursive: true });
    await prepareRunDir(dir, { resume: false, overwrite: true, config: {} });
    expect(await readdir(dir)).toEqual([]);
    await writeFile(join(dir, 'my-notes.txt'), 'x');
    await expect(prepareRunDir(dir, { resume: false, overwrite: true, config: {} })).rejects.toThrow(RunDirError);
  });
  it('one process per run dir: a live lock refuses, a stale one is taken over, release frees it', async () => {
    const dir = join(root, 'locked');
    const a = await prepareRunDir(dir, { resume: false, overwrite: false, config: {} });
    a.release();
    const gens = async () => (await readdir(`${dir}.lock`)).filter((n) => n.startsWith('gen-')).sort();
    const top = async () => join(`${dir}.lock`, (await gens()).at(-1)!);
    expect(JSON.parse(await readFile(await top(), 'utf8'))).toEqual({ released: true });
    // another live process holds it (our parent process stands in for it)
    await writeFile(join(`${dir}.lock`, 'gen-000000000007'), JSON.stringify({ pid: process.ppid }));
    await expect(prepareRunDir(dir, { resume: false, overwrite: true, config: {} })).rejects.toThrow(
      /in use by process/,
    );
    // a dead owner (pid far beyond pid_max) is stale
    await writeFile(join(`${dir}.lock`, 'gen-000000000008'), JSON.stringify({ pid: 2 ** 30 }));
    const b = await prepareRunDir(dir, { resume: false, overwrite: true, config: {} });
    expect(await gens()).toEqual(['gen-000000000009']);
    expect(JSON.parse(await readFile(await top(), 'utf8'))).toMatchObject({ pid: process.pid });
    b.release();
    expect(JSON.parse(await readFile(await top(), 'utf8'))).toEqual({ released: true });
  });
  it('a run killed before its first checkpoint starts again from step 0, with or without --resume', async () => {
    const killed = async (name: string) => {
      const dir = join(root, name);
      await mkdir(join(dir, 'checkpoints', '.step-000003.tmpdir-123-abcd'), { recursive: true });
      await writeFile(join(dir, 'metrics.jsonl'), '{"step":1}\n');
      await writeFile(join(dir, 'config.json'), '{}');
      return dir;
    };
    for (const resume of [true, false]) {
      const dir = await killed(`killed-${resume}`);
      const p = await prepareRunDir(dir, { resume, overwrite: false, config: {} });
      expect(p.resumeFrom).toBeNull();
      expect(p.warnings.join('\n')).toMatch(
        /stopped before its first checkpoint \(nothing to resume\): starting it again from step 0/,
      );
      expect(await readdir(dir)).toEqual([]);
      p.release();
    }
    // With a checkpoint, or a final adapter, nothing is deleted without a flag.
    const done = join(root, 'done');
    await mkdir(join(done, 'adapter'), { recursive: true });
    await writeFile(join(done, 'metrics.jsonl'), '');
    await expect(prepareRunDir(done, { resume: false, overwrite: false, config: {} })).rejects.toThrow(
      /pass --resume to continue it or --overwrite/,
    );
  });
  it('--resume needs a run and a checkpoint', async () => {
    await expect(prepareRunDir(join(root, 'none'), { resume: true, overwrite: false, config: {} })).rejects.toThrow(
      /does not exist/,
    );
    await mkdir(join(root, 'empty'));
    await expect(prepareRunDir(join(root, 'empty'), { resume: true, overwrite: false, config: {} })).rejects.toThrow(
      NoCheckpointError,
    );
  });
});

describe('runRequestProblem', () => {
  const ok = { expName: 'run1', resume: false, overwrite: false };
  it('--resume and --overwrite exclude each other, here and in prepareRunDir', async () => {
    expect(runRequestProblem({ ...ok, resume: true, overwrite: true })).toMatch(
      /exclude each other: --resume continues/,
    );
    await expect(prepareRunDir(join(root, 'x'), { resume: true, overwrite: true, config: {} })).rejects.toThrow(
      RunDirError,
    );
    expect(runRequestProblem({ ...ok, resume: true })).toBeNull();
  });
  it('the experiment name is one plain path segment', () => {
    for (const good of ['run1', 'a.b_c-2', 'X']) expect(runRequestProblem({ ...ok, expName: good })).toBeNull();
    for (const bad of ['../x', '.hidden', 'a/b', 'sp ace', '', 'é'])
      expect(runRequestProblem({ ...ok, expName: bad })).toBe(
        `--exp-name "${bad}": use letters, digits, '.', '_' and '-' only`,
      );
  });
});
