/**
 * On-disk layout of a resumable training checkpoint (see LAYOUT.md beside this file):
 *
 *   <run>/checkpoints/
 *     latest                      text "step-000250\n"; rewritten atomically, LAST
 *     step-000250/                renamed into place only once complete and fsynced
 *       trainer_state.json        global step, epoch, data cursor, RNG, scheduler, metrics, config + sha256, files
 *       optimizer.safetensors     F32 exp_avg.<param name>, exp_avg_sq.<param name>; metadata: steps, hyper
 *       trainable.safetensors     trainable non-LoRA weights (projection heads), by PyTorch name (if any)
 *       adapter/                  PEFT adapter: adapter_config.json + adapter_model.safetensors (if any)
 *     .step-000300.tmpdir-…       a save in progress (or killed): never read, removed by the next save
 */
import { readdir } from 'node:fs/promises';

export const LATEST_POINTER = 'latest';
export const TRAINER_STATE_FILE = 'trainer_state.json';
export const OPTIMIZER_FILE = 'optimizer.safetensors';
export const TRAINABLE_FILE = 'trainable.safetensors';
export const ADAPTER_DIR = 'adapter';
export const STATE_FORMAT_VERSION = 1;
export const OPTIMIZER_FORMAT = 'vla-lora/adamw-by-name/1';

const STEP_DIR_RE = /^step-(\d{6,})$/;

/** `step-000250` (zero-padded to 6 digits, longer if needed). */
export function stepDirName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0)
    throw new RangeError(`checkpoint step must be a non-negative integer, got ${step}`);
  return `step-${String(step).padStart(6, '0')}`;
}

/** The step a directory NAME claims (used only for ordering; the loaded step comes from trainer_state.json). */
export function parseStepDirName(name: string): number | null {
  const m = STEP_DIR_RE.exec(name);
  return m ? Number(m[1]) : null;
}

/** The entries of `dir`; none when it does not exist (any other error throws). */
async function namesIn(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

/** Completed step directories (temp dirs are dot-prefixed and never match), oldest first. */
export async function listStepDirs(checkpointsDir: string): Promise<Array<{ name: string; step: number }>> {
  const names = await namesIn(checkpointsDir);
  const out: Array<{ name: string; step: number }> = [];
  for (const name of names) {
    const step = parseStepDirName(name);
    if (step !== null) out.push({ name, step });
  }
  return out.sort((a, b) => a.step - b.step);
}

/** Leftovers of saves that never finished (killed mid-save). */
export async function listTempDirs(checkpointsDir: string): Promise<string[]> {
  const names = await namesIn(checkpointsDir);
  return names.filter((n) => /^\.step-\d+\.(tmpdir|old)-/.test(n) || /^\.latest\.tmp-/.test(n));
}
