// What is at a path, without swallowing real errors: only "nothing there" (ENOENT, ENOTDIR) is
// false; a permission or I/O error throws.
import { stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await stat(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    throw err;
  }
}

/** True if anything exists at `p`. */
export async function pathExists(p: string): Promise<boolean> {
  return (await statOrNull(p)) !== null;
}

/** True if `p` is a directory. */
export async function isDirectory(p: string): Promise<boolean> {
  return (await statOrNull(p))?.isDirectory() ?? false;
}

/** True if `p` is a regular file. */
export async function isFile(p: string): Promise<boolean> {
  return (await statOrNull(p))?.isFile() ?? false;
}
