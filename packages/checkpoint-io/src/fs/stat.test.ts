import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDirectory, isFile, pathExists } from './stat.js';
import { freshOutputPath } from './fresh-output.js';

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ckpt-stat-'));
  await mkdir(join(root, 'd'));
  await writeFile(join(root, 'f'), 'x');
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('pathExists / isDirectory / isFile', () => {
  it('tells files, directories and nothing apart', async () => {
    expect([
      await pathExists(join(root, 'f')),
      await isFile(join(root, 'f')),
      await isDirectory(join(root, 'f')),
    ]).toEqual([true, true, false]);
    expect([
      await pathExists(join(root, 'd')),
      await isFile(join(root, 'd')),
      await isDirectory(join(root, 'd')),
    ]).toEqual([true, false, true]);
    expect([
      await pathExists(join(root, 'nope')),
      await isFile(join(root, 'nope')),
      await isDirectory(join(root, 'nope')),
    ]).toEqual([false, false, false]);
    // a path "through" a file is nothing (ENOTDIR), not an error
    expect(await pathExists(join(root, 'f', 'below'))).toBe(false);
  });

  it('throws on errors other than "not there" (here ENAMETOOLONG, which root gets too)', async () => {
    await expect(pathExists(join(root, 'a'.repeat(300)))).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
    await expect(isDirectory(join(root, 'a'.repeat(300)))).rejects.toMatchObject({ code: 'ENAMETOOLONG' });
  });
});

describe('freshOutputPath', () => {
  class Exists extends Error {}
  const refuse = (m: string): Error => new Exists(m);
  it('resolves a free path, refuses a taken one unless overwrite', async () => {
    expect(await freshOutputPath(join(root, 'x', '..', 'new'), false, refuse)).toBe(join(root, 'new'));
    await expect(freshOutputPath(join(root, 'd'), undefined, refuse)).rejects.toThrow(
      new Exists(`${join(root, 'd')} already exists; remove it or pass --overwrite`),
    );
    await expect(freshOutputPath(join(root, 'f'), false, refuse)).rejects.toBeInstanceOf(Exists);
    expect(await freshOutputPath(join(root, 'f'), true, refuse)).toBe(join(root, 'f'));
  });
});
