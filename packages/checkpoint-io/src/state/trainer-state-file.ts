// trainer_state.json: snake_case on disk (like transformers' trainer_state.json), camelCase in TS.
import { readFile } from 'node:fs/promises';
import { STATE_FORMAT_VERSION } from './layout.js';
import { TrainerStateInvalidError } from './errors.js';
import type { JsonValue, MetricRecord, TrainerState } from './types.js';

export function serializeTrainerState(s: TrainerState): string {
  const disk: { [k: string]: JsonValue } = {
    format_version: s.formatVersion,
    global_step: s.globalStep,
    epoch: s.epoch,
    data_cursor: s.dataCursor,
    rng_state: s.rng,
    scheduler: s.scheduler,
    config_sha256: s.configHash,
    config: s.config,
    timestamp: s.timestamp,
    files: s.files,
    metrics_history: s.metricsHistory,
  };
  if (s.extra !== undefined) disk['extra'] = s.extra;
  return `${JSON.stringify(disk, null, 1)}\n`;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Parses and validates trainer_state.json. A null/absent global step is an error that says what to do. */
export function parseTrainerState(text: string, where: string): TrainerState {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TrainerStateInvalidError(
      `${where}: not valid JSON (${(err as Error).message}); the file is damaged: resume from an older checkpoint`,
    );
  }
  if (!isObj(raw)) throw new TrainerStateInvalidError(`${where}: expected a JSON object`);
  const fv = raw['format_version'];
  if (fv !== STATE_FORMAT_VERSION) {
    throw new TrainerStateInvalidError(
      `${where}: format_version ${JSON.stringify(fv ?? null)} is not supported (this version reads ${STATE_FORMAT_VERSION}); use the vla-lora version that wrote it`,
    );
  }
  const gs = raw['global_step'];
  if (gs === null || gs === undefined) {
    throw new TrainerStateInvalidError(
      `${where}: global_step is ${gs === null ? 'null' : 'absent'}, so there is no step to resume from. The resume step is never guessed from a directory name: resume from another checkpoint, or start the run again with --overwrite`,
    );
  }
  if (typeof gs !== 'number' || !Number.isSafeInteger(gs) || gs < 0) {
    throw new TrainerStateInvalidError(
      `${where}: global_step is ${JSON.stringify(gs)}, expected a non-negative integer`,
    );
  }
  const epoch = raw['epoch'];
  if (typeof epoch !== 'number' || !Number.isFinite(epoch) || epoch < 0) {
    throw new TrainerStateInvalidError(
      `${where}: epoch is ${JSON.stringify(epoch ?? null)}, expected a non-negative number`,
    );
  }
  const hash = raw['config_sha256'];
  if (typeof hash !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(hash)) {
    throw new TrainerStateInvalidError(`${where}: config_sha256 is missing or malformed`);
  }
  const files = raw['files'];
  if (!isObj(files) || !Object.values(files).every((n) => typeof n === 'number')) {
    throw new TrainerStateInvalidError(`${where}: "files" manifest is missing or malformed`);
  }
  const metrics = raw['metrics_history'] ?? [];
  if (!Array.isArray(metrics) || !metrics.every((m) => isObj(m) && typeof m['step'] === 'number')) {
    throw new TrainerStateInvalidError(`${where}: metrics_history must be an array of objects with a numeric "step"`);
  }
  for (const key of ['data_cursor', 'rng_state', 'scheduler', 'config'] as const) {
    if (!(key in raw))
      throw new TrainerStateInvalidError(`${where}: "${key}" is missing; the checkpoint cannot be resumed exactly`);
  }
  const out: TrainerState = {
    formatVersion: fv,
    globalStep: gs,
    epoch,
    dataCursor: raw['data_cursor'] as JsonValue,
    rng: raw['rng_state'] as JsonValue,
    scheduler: raw['scheduler'] as JsonValue,
    metricsHistory: metrics as MetricRecord[],
    config: raw['config'] as JsonValue,
    configHash: hash,
    timestamp: typeof raw['timestamp'] === 'string' ? raw['timestamp'] : '',
    files: files as Record<string, number>,
  };
  if ('extra' in raw) out.extra = raw['extra'] as JsonValue;
  return out;
}

export async function readTrainerState(path: string): Promise<TrainerState> {
  return parseTrainerState(await readFile(path, 'utf8'), path);
}
