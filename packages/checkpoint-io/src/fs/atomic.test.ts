import { mkdtemp, readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAtomicFile, withAtomicDir, writeFileAtomic } from './atomic.js';
import { AtomicWriteError } from './errors.js';

async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'ckpt-atomic-'));
}

describe('writeFileAtomic', () => {
  it('writes new content and replaces old content, leaving no temp files', async () => {
    const dir = await scratch();
    const p = join(dir, 'a.json');
    await writeFileAtomic(p, '{"v":1}');
    await writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    expect([...(await readFile(p))]).toEqual([1, 2, 3]);
    expect(await readdir(dir)).toEqual(['a.json']);
  });

  it('creates missing parent directories', async () => {
    const dir = await scratch();
    await writeFileAtomic(join(dir, 'x', 'y', 'z.txt'), 'hi');
    expect(await readFile(join(dir, 'x', 'y', 'z.txt'), 'utf8')).toBe('hi');
  });
});

describe('createAtomicFile', () => {
  it('shows nothing at the destination until commit, and abort leaves the old file', async () => {
    const dir = await scratch();
    const p = join(dir, 'big.bin');
    await writeFile(p, 'old');
    const f = await createAtomicFile(p);
    await f.write(new Uint8Array([9, 9]));
    expect(await readFile(p, 'utf8')).toBe('old');
    await f.abort();
    expect(await readFile(p, 'utf8')).toBe('old');
    expect(await readdir(dir)).toEqual(['big.bin']);
    const g = await createAtomicFile(p);
    await g.write(new Uint8Array([7]));
    await g.write(new Uint8Array([8]));
    expect(g.bytesWritten).toBe(2);
    await g.commit();
    expect([...(await readFile(p))]).toEqual([7, 8]);
    await expect(g.commit()).rejects.toBeInstanceOf(AtomicWriteError);
  });
});

describe('withAtomicDir', () => {
  it('builds a directory in a temp sibling and renames it into place, replacing an old one', async () => {
    const root = await scratch();
    const final = join(root, 'ckpt');
    await mkdir(final);
    await writeFile(join(final, 'stale.txt'), 'stale');
    const seen = await withAtomicDir(final, async (tmp) => {
      expect(tmp).not.toBe(final);
      await writeFile(join(tmp, 'a.txt'), 'A');
      await mkdir(join(tmp, 'sub'));
      await writeFile(join(tmp, 'sub', 'b.txt'), 'B');
      // the destination still holds the old content while we fill
      expect(await readFile(join(final, 'stale.txt'), 'utf8')).toBe('stale');
      return 42;
    });
    expect(seen).toBe(42);
    expect((await readdir(final)).sort()).toEqual(['a.txt', 'sub']);
    expect(await readdir(root)).toEqual(['ckpt']);
  });

  it('removes the temp dir and keeps the old one when fill throws', async () => {
    const root = await scratch();
    const final = join(root, 'ckpt');
    await mkdir(final);
    await writeFile(join(final, 'keep.txt'), 'K');
    await expect(
      withAtomicDir(final, async (tmp) => {
        await writeFile(join(tmp, 'half.txt'), 'h');
        throw new Error('disk on fire');
      }),
    ).rejects.toThrow('disk on fire');
    expect(await readdir(final)).toEqual(['keep.txt']);
    expect(await readdir(root)).toEqual(['ckpt']);
  });

  it('refuses to replace with replace: false', async () => {
    const root = await scratch();
    const final = join(root, 'ckpt');
    await mkdir(final);
    await expect(withAtomicDir(final, async () => 1, { replace: false })).rejects.toBeInstanceOf(AtomicWriteError);
    expect(await readdir(root)).toEqual(['ckpt']);
  });
});
