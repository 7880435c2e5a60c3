// loadCheckpoint: finds the checkpoint `latest` names, checks it is whole, checks the config hash,
// and reads it back. The step always comes from trainer_state.json.
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { isDirectory, pathExists } from '../fs/stat.js';
import { loadPeftAdapter } from '../peft/index.js';
import { diffConfigKeys, hashConfig } from './config-hash.js';
import { CheckpointIncompleteError, CheckpointPointerError, ConfigMismatchError, NoCheckpointError } from './errors.js';
import {
  ADAPTER_DIR,
  LATEST_POINTER,
  OPTIMIZER_FILE,
  TRAINABLE_FILE,
  TRAINER_STATE_FILE,
  listStepDirs,
  parseStepDirName,
} from './layout.js';
import { readF32Tensors, readOptimizer } from './tensor-files.js';
import { readTrainerState } from './trainer-state-file.js';
import type { F32Tensor, JsonValue, LoadedCheckpoint } from './types.js';

export interface ResolveOptions {
  /**
   * What to do when `latest` names a directory that does not exist (deleted by hand, lost by the
   * filesystem — a crash cannot cause it, since the pointer is written after the rename):
   * 'error' (default) throws CheckpointPointerError naming the newest complete checkpoint;
   * 'newest-complete' takes that one and adds a warning.
   */
  onMissingLatest?: 'error' | 'newest-complete';
}

export interface LoadCheckpointOptions extends ResolveOptions {
  /** The config of the run being resumed; its hash must equal the saved one. */
  config?: JsonValue;
  /** Accept a config whose hash differs (a warning is returned instead of ConfigMismatchError). */
  allowConfigMismatch?: boolean;
}

/** The pieces of a step directory that are missing (empty when whole). */
export async function missingPieces(stepDir: string): Promise<string[]> {
  if (!(await pathExists(join(stepDir, TRAINER_STATE_FILE)))) return [TRAINER_STATE_FILE];
  const state = await readTrainerState(join(stepDir, TRAINER_STATE_FILE));
  const missing: string[] = [];
  const required = new Set([OPTIMIZER_FILE, ...Object.keys(state.files)]);
  for (const rel of required) {
    const p = join(stepDir, rel);
    let size: number | null = null;
    try {
      size = (await stat(p)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const want = state.files[rel];
    if (size === null) missing.push(rel);
    else if (want !== undefined && size !== want)
      missing.push(`${rel} (has ${size} bytes, trainer_state.json recorded ${want})`);
  }
  return missing;
}

async function newestComplete(root: string): Promise<string | null> {
  const dirs = await listStepDirs(root);
  for (let i = dirs.length - 1; i >= 0; i--) {
    const d = join(root, (dirs[i] as { name: string }).name);
    try {
      if ((await missingPieces(d)).length === 0) return d;
    } catch {
      // a damaged trainer_state.json: not a candidate; loadCheckpointDir on it reports why
    }
  }
  return null;
}

/**
 * The checkpoint directory to resume from: the one `latest` names; without a pointer (a crash
 * between the rename and the pointer update of the very first save) the newest complete one,
 * with a warning. Temp dirs of killed saves are never candidates.
 */
export async function resolveCheckpoint(
  checkpointsDir: string,
  opts: ResolveOptions = {},
): Promise<{ dir: string; warnings: string[] }> {
  const root = resolve(checkpointsDir);
  const warnings: string[] = [];
  let pointer: string | null = null;
  try {
    pointer = (await readFile(join(root, LATEST_POINTER), 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (pointer !== null) {
    if (parseStepDirName(pointer) === null) {
      throw new CheckpointPointerError(
        `${join(root, LATEST_POINTER)} contains ${JSON.stringify(pointer)}, not a step directory name like "step-000250"; fix or delete the file`,
      );
    }
    const dir = join(root, pointer);
    if (await isDirectory(dir)) return { dir, warnings };
    const fallback = await newestComplete(root);
    if (opts.onMissingLatest === 'newest-complete' && fallback) {
      warnings.push(
        `latest names ${pointer}, which does not exist; resuming from the newest complete checkpoint ${basename(fallback)}`,
      );
      return { dir: fallback, warnings };
    }
    throw new CheckpointPointerError(
      `${join(root, LATEST_POINTER)} names ${pointer}, which does not exist (deleted?). ` +
        (fallback
          ? `The newest complete checkpoint is ${fallback}: resume from it explicitly, or point "latest" at it.`
          : 'No complete checkpoint is left: start the run again with --overwrite.'),
    );
  }
  const fallback = await newestComplete(root);
  if (!fallback) {
    throw new NoCheckpointError(
      `no checkpoint in ${root} (no "latest" pointer, no complete step-NNNNNN directory); start the run without --resume`,
    );
  }
  warnings.push(`${join(root, LATEST_POINTER)} is missing; using the newest complete checkpoint ${basename(fallback)}`);
  return { dir: fallback, warnings };
}

/** Loads one step directory (validated: pieces present with recorded sizes, config hash, step from the state). */
export async function loadCheckpointDir(stepDir: string, opts: LoadCheckpointOptions = {}): Promise<LoadedCheckpoint> {
  const dir = resolve(stepDir);
  const warnings: string[] = [];
  const missing = await missingPieces(dir);
  if (missing.length > 0) {
    throw new CheckpointIncompleteError(
      `checkpoint ${dir} is incomplete: missing ${missing.join(', ')}. Resume from another checkpoint or start again with --overwrite`,
      missing,
    );
  }
  const state = await readTrainerState(join(dir, TRAINER_STATE_FILE));
  const recomputed = hashConfig(state.config);
  if (recomputed !== state.configHash) {
    warnings.push(
      `trainer_state.json config_sha256 ${state.configHash} does not match its own config (${recomputed}); the file was edited by hand`,
    );
  }
  if (opts.config !== undefined) {
    const current = hashConfig(opts.config);
    if (current !== state.configHash) {
      const keys = diffConfigKeys(state.config, opts.config);
      const what = `config differs from the one checkpoint ${basename(dir)} was made with (saved ${state.configHash.slice(0, 19)}…, now ${current.slice(0, 19)}…; differing keys: ${keys.join(', ') || '(none at the top level)'})`;
      if (!opts.allowConfigMismatch) {
        throw new ConfigMismatchError(
          `${what}. Resume with the saved config, or pass the explicit override (allowConfigMismatch / --allow-config-change) if the change is intended`,
          state.configHash,
          current,
          keys,
        );
      }
      warnings.push(`${what}; continuing because the override was given`);
    }
  }
  const named = parseStepDirName(basename(dir));
  if (named !== null && named !== state.globalStep) {
    warnings.push(
      `directory ${basename(dir)} holds global step ${state.globalStep} (trainer_state.json); the state wins`,
    );
  }
  const optimizer = await readOptimizer(join(dir, OPTIMIZER_FILE));
  const adapter =
    `${ADAPTER_DIR}/adapter_config.json` in state.files ? await loadPeftAdapter(join(dir, ADAPTER_DIR)) : null;
  let trainable = new Map<string, F32Tensor>();
  if (TRAINABLE_FILE in state.files) trainable = (await readF32Tensors(join(dir, TRAINABLE_FILE))).tensors;
  return { dir, step: state.globalStep, state, optimizer, adapter, trainable, warnings };
}

/** Resolves (see resolveCheckpoint) and loads the checkpoint to resume from. */
export async function loadCheckpoint(
  checkpointsDir: string,
  opts: LoadCheckpointOptions = {},
): Promise<LoadedCheckpoint> {
  const { dir, warnings } = await resolveCheckpoint(checkpointsDir, opts);
  const loaded = await loadCheckpointDir(dir, opts);
  loaded.warnings.unshift(...warnings);
  return loaded;
}
