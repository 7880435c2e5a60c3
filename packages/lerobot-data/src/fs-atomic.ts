// Atomic file and folder writes: temp + fsync + rename (+ fsync of the parent folder).
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

async function fsyncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/** Writes `data` to `path` so that readers see the old file or the complete new one, never a part. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const h = await open(tmp, 'w');
  try {
    await h.writeFile(data);
    await h.sync();
  } catch (err) {
    await h.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await h.close();
  await rename(tmp, path);
  await fsyncDir(dir);
}

/** Fills a temp sibling folder, then renames it to `finalDir` (replacing it when `overwrite`). */
export async function withAtomicDir<T>(finalDir: string, overwrite: boolean, fill: (tmpDir: string) => Promise<T>): Promise<T> {
  const parent = dirname(finalDir);
  await mkdir(parent, { recursive: true });
  const tmp = join(parent, `.${basename(finalDir)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  let result: T;
  try {
    result = await fill(tmp);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const exists = await stat(finalDir).then(
    () => true,
    () => false,
  );
  if (exists) {
    if (!overwrite) {
      await rm(tmp, { recursive: true, force: true });
      throw new Error(`${finalDir} already exists; pass overwrite: true (--overwrite) to replace it`);
    }
    const trash = `${tmp}-old`;
    await rename(finalDir, trash);
    await rename(tmp, finalDir);
    await rm(trash, { recursive: true, force: true });
  } else {
    await rename(tmp, finalDir);
  }
  await fsyncDir(parent);
  return result;
}
