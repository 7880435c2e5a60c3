// saveCheckpoint: everything goes into a temp dir, every file and the dir are fsynced, the dir is
// renamed into place, and only then is `latest` rewritten (atomically). A kill at any point leaves
// either the previous checkpoint or the new one as what `latest` names, never half of one.
import { readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { withAtomicDir, writeFileAtomic } from '../fs/index.js';
import { savePeftAdapter } from '../peft/index.js';
import { hashConfig } from './config-hash.js';
import {
  ADAPTER_DIR,
  LATEST_POINTER,
  OPTIMIZER_FILE,
  STATE_FORMAT_VERSION,
  TRAINABLE_FILE,
  TRAINER_STATE_FILE,
  listTempDirs,
  stepDirName,
} from './layout.js';
import { applyRetention } from './retention.js';
import { serializeTrainerState } from './trainer-state-file.js';
import { writeF32Tensors, writeOptimizer } from './tensor-files.js';
import { CheckpointWriteError, TrainerStateInvalidError } from './errors.js';
import { isDirectory } from '../fs/stat.js';
import type { CheckpointContents, RetentionPolicy, TrainerState } from './types.js';

export interface SaveCheckpointOptions {
  retention?: RetentionPolicy;
  /**
   * Called with the temp dir once every file is written, before fsync + rename. For tests that kill
   * the process mid-save and for callers that add files of their own.
   */
  beforeCommit?: (tmpDir: string) => Promise<void>;
  /** Clock for the timestamp (tests). */
  now?: () => Date;
}

export interface SavedCheckpoint {
  /** Absolute path of the new step directory. */
  dir: string;
  step: number;
  /** Step directories deleted by the retention policy. */
  removed: string[];
}

async function fileSizes(root: string, rel: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const r of rel) out[r] = (await stat(join(root, r))).size;
  return out;
}

/** Writes `<checkpointsDir>/step-NNNNNN/` atomically, then points `latest` at it, then prunes. */
export async function saveCheckpoint(
  checkpointsDir: string,
  contents: CheckpointContents,
  opts: SaveCheckpointOptions = {},
): Promise<SavedCheckpoint> {
  const { state } = contents;
  if (!Number.isSafeInteger(state.globalStep) || state.globalStep < 0) {
    throw new TrainerStateInvalidError(
      `cannot save a checkpoint with global step ${String(state.globalStep)}; pass the number of optimizer steps completed`,
    );
  }
  const root = resolve(checkpointsDir);
  const name = stepDirName(state.globalStep);
  const finalDir = join(root, name);
  // What is being written right now, for the error message (a failed write(2) names no file).
  let current = name;
  const piece = async <T>(file: string, work: () => Promise<T>): Promise<T> => {
    current = file;
    return work();
  };
  try {
    await mkdir(root, { recursive: true });
    // Leftovers of saves that were killed: never read; cleared so they do not pile up.
    for (const t of await listTempDirs(root)) await rm(join(root, t), { recursive: true, force: true });

    await withAtomicDir(finalDir, async (tmp) => {
      const rel: string[] = [];
      if (contents.adapter) {
        const adapter = contents.adapter;
        await piece(`${ADAPTER_DIR}/`, () => savePeftAdapter(join(tmp, ADAPTER_DIR), adapter));
        rel.push(`${ADAPTER_DIR}/adapter_config.json`, `${ADAPTER_DIR}/adapter_model.safetensors`);
      }
      await piece(OPTIMIZER_FILE, () => writeOptimizer(join(tmp, OPTIMIZER_FILE), contents.optimizer));
      rel.push(OPTIMIZER_FILE);
      const trainable = contents.trainable;
      if (trainable && trainable.size > 0) {
        await piece(TRAINABLE_FILE, () => writeF32Tensors(join(tmp, TRAINABLE_FILE), trainable));
        rel.push(TRAINABLE_FILE);
      }
      const full: TrainerState = {
        ...state,
        formatVersion: STATE_FORMAT_VERSION,
        configHash: hashConfig(state.config),
        timestamp: (opts.now ?? (() => new Date()))().toISOString(),
        files: await fileSizes(tmp, rel),
      };
      // Plain write: withAtomicDir fsyncs every file and the directory before the rename.
      await piece(TRAINER_STATE_FILE, () => writeFile(join(tmp, TRAINER_STATE_FILE), serializeTrainerState(full)));
      if (opts.beforeCommit) await piece('(beforeCommit hook)', () => opts.beforeCommit!(tmp));
      current = '(fsync and rename of the step directory)';
    });
    await piece(LATEST_POINTER, () => writeFileAtomic(join(root, LATEST_POINTER), `${name}\n`));
  } catch (err) {
    if (!isFsError(err)) throw err;
    const lastGood = await latestTarget(root);
    const e = (err instanceof Error && err.cause ? err.cause : err) as NodeJS.ErrnoException;
    const errCode = typeof e.code === 'string' ? e.code : null;
    const why = errCode === 'ENOSPC' || errCode === 'EDQUOT' ? ' (disk full: free space on that filesystem)' : '';
    throw new CheckpointWriteError(
      `checkpoint for step ${state.globalStep} was NOT saved: writing ${current === LATEST_POINTER ? join(root, LATEST_POINTER) : join(finalDir, current)} failed: ${(err as Error).message}${why}. ` +
        (lastGood
          ? `The last good checkpoint is ${lastGood} ("latest" still names it); resume from it with --resume.`
          : 'There is no earlier checkpoint; after fixing this, start the run again.'),
      current,
      state.globalStep,
      lastGood,
      errCode,
      { cause: err },
    );
  }
  const removed = opts.retention ? await applyRetention(root, opts.retention) : [];
  return { dir: finalDir, step: state.globalStep, removed };
}

/** An operating-system error (errno code), possibly wrapped by the atomic-write helpers. */
function isFsError(err: unknown): boolean {
  const code = (e: unknown): unknown => (e as NodeJS.ErrnoException | null)?.code;
  return typeof code(err) === 'string' || (err instanceof Error && typeof code(err.cause) === 'string');
}

/** The step dir `latest` names, if it exists (the last good checkpoint). */
async function latestTarget(root: string): Promise<string | null> {
  try {
    const name = (await readFile(join(root, LATEST_POINTER), 'utf8')).trim();
    const dir = join(root, name);
    return name && (await isDirectory(dir)) ? dir : null;
  } catch {
    return null;
  }
}
