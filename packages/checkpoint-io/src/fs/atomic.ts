// Atomic file and directory writes: a reader sees the old content or the new, never half a file.
// Recipe: write a temp sibling (same directory, so rename stays on one filesystem), fsync it,
// rename over the destination, fsync the directory so that the rename itself is durable.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, rename, rm, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AtomicWriteError } from './errors.js';
import { pathExists } from './stat.js';

function tempSibling(finalPath: string, tag: string): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${tag}-${process.pid}-${randomBytes(4).toString('hex')}`);
}

/** fsyncs a directory (makes a rename or create inside it durable). No-op where the OS refuses (Windows). */
export async function fsyncDir(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, fsConstants.O_RDONLY);
    await handle.sync();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EINVAL' && code !== 'EPERM' && code !== 'EBADF') throw err;
  } finally {
    await handle?.close();
  }
}

/** A file being written under a temporary name; `commit()` moves it into place atomically. */
export interface AtomicFile {
  readonly path: string;
  readonly tempPath: string;
  /** Appends bytes (handles partial writes). */
  write(data: Uint8Array): Promise<void>;
  /** Bytes written so far. */
  readonly bytesWritten: number;
  /** fsync + close + rename + fsync dir. */
  commit(): Promise<void>;
  /** Closes and deletes the temp file; the destination is untouched. Safe to call after a failure. */
  abort(): Promise<void>;
}

/** Opens `<dir>/.<name>.tmp-…` for writing; nothing appears at `path` until `commit()`. */
export async function createAtomicFile(path: string): Promise<AtomicFile> {
  await mkdir(dirname(path), { recursive: true });
  const tempPath = tempSibling(path, 'tmp');
  const handle = await open(tempPath, 'wx', 0o644);
  let written = 0;
  let done = false;
  return {
    path,
    tempPath,
    get bytesWritten() {
      return written;
    },
    async write(data: Uint8Array) {
      let off = 0;
      while (off < data.byteLength) {
        const { bytesWritten } = await handle.write(data, off, Math.min(data.byteLength - off, 1 << 30));
        if (bytesWritten <= 0) throw new AtomicWriteError(`short write to ${tempPath}`);
        off += bytesWritten;
      }
      written += data.byteLength;
    },
    async commit() {
      if (done) throw new AtomicWriteError(`${path}: atomic file already committed or aborted`);
      done = true;
      try {
        await handle.sync();
        await handle.close();
        await rename(tempPath, path);
      } catch (err) {
        await handle.close().catch(() => undefined);
        await rm(tempPath, { force: true });
        throw new AtomicWriteError(`could not write ${path}: ${(err as Error).message}`, { cause: err });
      }
      await fsyncDir(dirname(path));
    },
    async abort() {
      if (done) return;
      done = true;
      await handle.close().catch(() => undefined);
      await rm(tempPath, { force: true });
    },
  };
}

/** Writes a whole file atomically (temp + fsync + rename + fsync dir). */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const file = await createAtomicFile(path);
  try {
    await file.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  } catch (err) {
    await file.abort();
    throw err;
  }
  await file.commit();
}

async function fsyncTree(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) await fsyncTree(p);
    else if (entry.isFile()) {
      const h = await open(p, 'r');
      try {
        await h.sync();
      } finally {
        await h.close();
      }
    }
  }
  await fsyncDir(dir);
}

/**
 * Builds a whole directory atomically: `fill(tmpDir)` writes into a fresh temp sibling of
 * `finalDir`; every file is fsynced, then the directory is renamed into place. If `finalDir`
 * already exists it is replaced (moved aside, new one renamed in, old one deleted); with
 * `{ replace: false }` an existing `finalDir` is an error. If `fill` throws, the temp dir is
 * removed and `finalDir` is untouched.
 */
export async function withAtomicDir<T>(
  finalDir: string,
  fill: (tmpDir: string) => Promise<T>,
  opts: { replace?: boolean } = {},
): Promise<T> {
  const parent = dirname(finalDir);
  await mkdir(parent, { recursive: true });
  const tmpDir = tempSibling(finalDir, 'tmpdir');
  await mkdir(tmpDir);
  let result: T;
  try {
    result = await fill(tmpDir);
    await fsyncTree(tmpDir);
  } catch (err) {
    await rm(tmpDir, { recursive: true, force: true });
    throw err;
  }
  const replace = opts.replace ?? true;
  if (await pathExists(finalDir)) {
    if (!replace) {
      await rm(tmpDir, { recursive: true, force: true });
      throw new AtomicWriteError(`${finalDir} already exists; remove it or pass { replace: true }`);
    }
    const old = tempSibling(finalDir, 'old');
    await rename(finalDir, old);
    try {
      await rename(tmpDir, finalDir);
    } catch (err) {
      await rename(old, finalDir).catch(() => undefined);
      await rm(tmpDir, { recursive: true, force: true });
      throw new AtomicWriteError(`could not move the new ${finalDir} into place: ${(err as Error).message}`, {
        cause: err,
      });
    }
    await fsyncDir(parent);
    await rm(old, { recursive: true, force: true });
  } else {
    try {
      await rename(tmpDir, finalDir);
    } catch (err) {
      await rm(tmpDir, { recursive: true, force: true });
      throw new AtomicWriteError(`could not move the new ${finalDir} into place: ${(err as Error).message}`, {
        cause: err,
      });
    }
    await fsyncDir(parent);
  }
  return result;
}
