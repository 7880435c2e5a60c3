// Loading a safetensors state dict into a module tree, strictly: every parameter must be in the
// file with the right shape, and every file tensor must land somewhere (torchtune's
// validate_missing_and_unexpected). Nothing is half-loaded silently.
import type { SafetensorsReader } from '@vla-lora/checkpoint-io';
import { namedParameters, type Module } from '@vla-lora/lora-core';
import * as tf from '@tensorflow/tfjs-core';
import { WeightsMismatchError } from '../errors.js';

export interface LoadStateDictOptions {
  /** Prepended to each parameter name to find it in the file (e.g. `base_model.model.`). */
  prefix?: string;
  /** Other file names under which a parameter may be stored (tied weights), keyed by parameter name. */
  aliases?: Record<string, string[]>;
  /** File tensors that may stay unused (e.g. a tied lm_head.weight both names point at). */
  ignoreUnexpected?: (name: string) => boolean;
  /** Parameters that may be absent from the file and keep their current values. */
  allowMissing?: (name: string) => boolean;
}

export interface LoadReport {
  /** Parameters loaded. */
  loaded: number;
  /** Values loaded. */
  values: number;
  /** Parameters left as they were (allowed missing). */
  skipped: string[];
  /** File tensors ignored on purpose. */
  ignored: string[];
}

/** Loads every parameter of `root` from `reader` (float32 conversion of F16/BF16 by checkpoint-io). */
export async function loadStateDict(
  root: Module,
  reader: SafetensorsReader,
  opts: LoadStateDictOptions = {},
): Promise<LoadReport> {
  const prefix = opts.prefix ?? '';
  const params = namedParameters(root);
  const fileNames = new Set(reader.list().map((t) => t.name));
  const used = new Set<string>();
  const missing: string[] = [];
  const wrongShape: string[] = [];
  const plan: Array<[tf.Variable, string]> = [];
  const skipped: string[] = [];
  for (const [name, v] of params) {
    const candidates = [prefix + name, ...(opts.aliases?.[name] ?? []).map((a) => prefix + a)];
    const found = candidates.find((c) => fileNames.has(c));
    if (found === undefined) {
      if (opts.allowMissing?.(name)) skipped.push(name);
      else missing.push(prefix + name);
      continue;
    }
    const info = reader.info(found);
    if (info.shape.length !== v.shape.length || info.shape.some((d, i) => d !== v.shape[i])) {
      wrongShape.push(`${found} [${info.shape}] vs parameter [${v.shape}]`);
      continue;
    }
    for (const c of candidates) if (fileNames.has(c)) used.add(c);
    plan.push([v, found]);
  }
  const ignored: string[] = [];
  const unexpected: string[] = [];
  for (const n of fileNames) {
    if (used.has(n)) continue;
    if (opts.ignoreUnexpected?.(n)) ignored.push(n);
    else unexpected.push(n);
  }
  if (missing.length + unexpected.length + wrongShape.length > 0) {
    const fmt = (xs: string[]): string =>
      xs.length > 6 ? `${xs.slice(0, 6).join(', ')}, ... (${xs.length} in all)` : xs.join(', ');
    throw new WeightsMismatchError(
      `the weights file does not match the model: missing [${fmt(missing)}], unexpected [${fmt(unexpected)}], wrong shape [${fmt(wrongShape)}]. ` +
        'Check that the file belongs to this model and config (and the prefix, e.g. base_model.model. for PEFT names).',
      missing,
      unexpected,
      wrongShape,
    );
  }
  let values = 0;
  for (const [v, name] of plan) {
    const data = await reader.readFloat32(name);
    const t = tf.tensor(data, v.shape, 'float32');
    v.assign(t);
    t.dispose();
    values += data.length;
  }
  return { loaded: plan.length, values, skipped, ignored };
}
