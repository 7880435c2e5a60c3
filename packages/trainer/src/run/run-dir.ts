// The run directory and what --resume / --overwrite mean for it.
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { acquireRunLock } from './lock.js';
import { RUN_ENTRY_NAMES, RUN_LAYOUT, runPath } from './layout.js';
import {
  loadCheckpoint,
  NoCheckpointError,
  resolveCheckpoint,
  type JsonValue,
  type LoadedCheckpoint,
} from '@vla-lora/checkpoint-io';
import { RunDirError } from '../errors.js';

export interface PrepareRunDirOptions {
  resume: boolean;
  overwrite: boolean;
  /** The config of this invocation (hash-checked against the checkpoint on resume). */
  config: JsonValue;
  allowConfigChange?: boolean;
}

export interface PreparedRunDir {
  runDir: string;
  checkpointsDir: string;
  /** Set when resuming. */
  resumeFrom: LoadedCheckpoint | null;
  /** Things the caller should print (e.g. a run stopped before its first checkpoint is started again). */
  warnings: string[];
  /** Releases the run-directory lock (also released at process exit). */
  release(): void;
}

/** What `vla-train NAME --exp-name E [--resume | --overwrite]` may ask for. */
export interface RunRequest {
  expName: string;
  resume: boolean;
  overwrite: boolean;
}

const RESUME_AND_OVERWRITE =
  '--resume and --overwrite exclude each other: --resume continues the run, --overwrite deletes it';

/**
 * Why a run request cannot be honoured, checked before anything touches the disk (null when it can): --resume with
 * --overwrite, or an experiment name that is not one plain path segment (letters, digits, '.', '_', '-'; no leading
 * '.'), since it names the run directory <runs-root>/<config>/<exp-name>.
 */
export function runRequestProblem(r: RunRequest): string | null {
  if (r.resume && r.overwrite) return RESUME_AND_OVERWRITE;
  if (!/^[A-Za-z0-9._-]+$/.test(r.expName) || r.expName.startsWith('.'))
    return `--exp-name "${r.expName}": use letters, digits, '.', '_' and '-' only`;
  return null;
}

async function entries(dir: string): Promise<string[] | null> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export async function prepareRunDir(runDirIn: string, o: PrepareRunDirOptions): Promise<PreparedRunDir> {
  if (o.resume && o.overwrite) throw new RunDirError(RESUME_AND_OVERWRITE);
  const runDir = resolve(runDirIn);
  const checkpointsDir = runPath(runDir, 'checkpoints');
  await mkdir(dirname(runDir), { recursive: true });
  const lock = acquireRunLock(runDir);
  try {
    return { ...(await prepareLocked(runDir, checkpointsDir, o)), release: lock.release };
  } catch (err) {
    lock.release();
    throw err;
  }
}

async function prepareLocked(
  runDir: string,
  checkpointsDir: string,
  o: PrepareRunDirOptions,
): Promise<Omit<PreparedRunDir, 'release'>> {
  const existing = await entries(runDir);
  const warnings: string[] = [];
  // A run killed before its first checkpoint left logs but nothing to resume and no result: with or
  // without --resume, it simply starts again (from step 0), and says so.
  const restartable =
    existing !== null &&
    existing.length > 0 &&
    !existing.includes(RUN_LAYOUT.adapter) &&
    existing.every((e) => RUN_ENTRY_NAMES.has(e) || e.startsWith('.')) &&
    !(await hasCheckpoint(checkpointsDir));
  if (restartable) {
    warnings.push(
      `${runDir} holds a run that was stopped before its first checkpoint (nothing to resume): starting it again from step 0`,
    );
    for (const e of existing) await rm(join(runDir, e), { recursive: true, force: true });
  } else if (o.resume) {
    if (existing === null)
      throw new RunDirError(
        `cannot resume: ${runDir} does not exist; start the run without --resume (check --exp-name and the config name)`,
      );
    const resumeFrom = await loadCheckpoint(checkpointsDir, {
      config: o.config,
      allowConfigMismatch: o.allowConfigChange ?? false,
    });
    return { runDir, checkpointsDir, resumeFrom, warnings };
  } else if (existing !== null && existing.length > 0) {
    if (!o.overwrite) {
      throw new RunDirError(
        `${runDir} already holds a run (${existing.slice(0, 4).join(', ')}); pass --resume to continue it or --overwrite to delete it and start again, or choose another --exp-name`,
      );
    }
    const foreign = existing.filter((e) => !RUN_ENTRY_NAMES.has(e) && !e.startsWith('.'));
    if (foreign.length > 0) {
      throw new RunDirError(
        `--overwrite refuses to delete ${runDir}: it holds files a run does not write (${foreign.slice(0, 4).join(', ')}); remove them yourself`,
      );
    }
    // Entry by entry, not the directory itself: a symlinked run dir stays a link to the same place.
    for (const e of existing) await rm(join(runDir, e), { recursive: true, force: true });
  }
  await mkdir(runDir, { recursive: true });
  if (!(await stat(runDir)).isDirectory()) throw new RunDirError(`${runDir} is not a directory`);
  return { runDir, checkpointsDir, resumeFrom: null, warnings };
}

/** Whether `checkpoints/` holds anything resume could use (or a pointer problem resume must report). */
async function hasCheckpoint(checkpointsDir: string): Promise<boolean> {
  try {
    await resolveCheckpoint(checkpointsDir);
    return true;
  } catch (err) {
    if (err instanceof NoCheckpointError) return false;
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    return true;
  }
}
