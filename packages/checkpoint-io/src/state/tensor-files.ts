// optimizer.safetensors and trainable.safetensors: named F32 tensors through the safetensors module.
import { openSafetensors, writeSafetensors } from '../safetensors/index.js';
import { canonicalJson } from './config-hash.js';
import { OPTIMIZER_FORMAT } from './layout.js';
import { OptimizerStateError, TrainerStateInvalidError } from './errors.js';
import type { F32Tensor, JsonValue, OptimizerCheckpoint } from './types.js';

function f32Bytes(t: F32Tensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

function checkShape(name: string, t: F32Tensor): void {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length) {
    throw new OptimizerStateError(
      `${name}: shape [${t.shape.join(', ')}] has ${n} elements but the data has ${t.data.length}`,
    );
  }
}

/** Writes named F32 tensors (sorted by name, like safetensors' own writers). */
export async function writeF32Tensors(
  path: string,
  tensors: Map<string, F32Tensor>,
  metadata?: Record<string, string>,
): Promise<void> {
  const names = [...tensors.keys()].sort();
  const entries = names.map((name) => {
    const t = tensors.get(name) as F32Tensor;
    checkShape(name, t);
    return { name, dtype: 'F32' as const, shape: [...t.shape], data: f32Bytes(t) };
  });
  await writeSafetensors(path, entries, metadata ? { metadata } : {});
}

/** Reads every tensor of a safetensors file as F32. */
export async function readF32Tensors(
  path: string,
): Promise<{ tensors: Map<string, F32Tensor>; metadata: Record<string, string> | null }> {
  const reader = await openSafetensors(path);
  try {
    const tensors = new Map<string, F32Tensor>();
    for (const info of reader.list()) {
      tensors.set(info.name, { shape: [...info.shape], data: await reader.readFloat32(info.name) });
    }
    return { tensors, metadata: reader.metadata };
  } finally {
    await reader.close();
  }
}

/** optimizer.safetensors: `exp_avg.<name>` / `exp_avg_sq.<name>`; metadata holds per-param steps and hyperparameters. */
export async function writeOptimizer(path: string, opt: OptimizerCheckpoint): Promise<void> {
  // Sorted, so that the bytes depend on the state only, not on the order the optimizer (or a
  // resume, which reads names back sorted) happened to insert parameters in.
  const names = [...new Set([...opt.expAvg.keys(), ...opt.expAvgSq.keys(), ...opt.steps.keys()])].sort();
  const all = new Map<string, F32Tensor>();
  const steps: Record<string, number> = {};
  for (const name of names) {
    const m = opt.expAvg.get(name);
    const v = opt.expAvgSq.get(name);
    const s = opt.steps.get(name);
    if (!m || !v || s === undefined) {
      throw new OptimizerStateError(
        `optimizer state for ${name} is incomplete (exp_avg ${m ? 'ok' : 'missing'}, exp_avg_sq ${v ? 'ok' : 'missing'}, step ${s === undefined ? 'missing' : 'ok'}); every parameter needs all three`,
      );
    }
    if (m.shape.join(',') !== v.shape.join(',')) {
      throw new OptimizerStateError(
        `optimizer state for ${name}: exp_avg shape [${m.shape}] differs from exp_avg_sq shape [${v.shape}]`,
      );
    }
    all.set(`exp_avg.${name}`, m);
    all.set(`exp_avg_sq.${name}`, v);
    steps[name] = s;
  }
  await writeF32Tensors(path, all, {
    format: OPTIMIZER_FORMAT,
    steps: JSON.stringify(steps),
    hyper: canonicalJson(opt.hyper),
  });
}

export async function readOptimizer(path: string): Promise<OptimizerCheckpoint> {
  const { tensors, metadata } = await readF32Tensors(path);
  if (!metadata || metadata['format'] !== OPTIMIZER_FORMAT) {
    throw new TrainerStateInvalidError(
      `${path}: not a vla-lora optimizer file (metadata.format is ${JSON.stringify(metadata?.['format'] ?? null)}, expected ${OPTIMIZER_FORMAT})`,
    );
  }
  let steps: Record<string, unknown>;
  let hyper: { [key: string]: JsonValue };
  try {
    steps = JSON.parse(metadata['steps'] ?? 'null') as Record<string, unknown>;
    hyper = JSON.parse(metadata['hyper'] ?? '{}') as { [key: string]: JsonValue };
  } catch (err) {
    throw new TrainerStateInvalidError(`${path}: metadata steps/hyper is not JSON: ${(err as Error).message}`);
  }
  if (!steps || typeof steps !== 'object')
    throw new TrainerStateInvalidError(`${path}: metadata has no per-parameter steps`);
  const out: OptimizerCheckpoint = { expAvg: new Map(), expAvgSq: new Map(), steps: new Map(), hyper };
  for (const [key, t] of tensors) {
    if (key.startsWith('exp_avg_sq.')) out.expAvgSq.set(key.slice('exp_avg_sq.'.length), t);
    else if (key.startsWith('exp_avg.')) out.expAvg.set(key.slice('exp_avg.'.length), t);
    else
      throw new OptimizerStateError(`${path}: unexpected tensor ${key} (expected exp_avg.<name> / exp_avg_sq.<name>)`);
  }
  for (const [name, s] of Object.entries(steps)) {
    if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) {
      throw new TrainerStateInvalidError(
        `${path}: step of ${name} is ${JSON.stringify(s)}, expected a non-negative integer`,
      );
    }
    out.steps.set(name, s);
  }
  const names = new Set([...out.expAvg.keys(), ...out.expAvgSq.keys(), ...out.steps.keys()]);
  const broken = [...names].filter((n) => !out.expAvg.has(n) || !out.expAvgSq.has(n) || !out.steps.has(n));
  if (broken.length > 0) {
    throw new OptimizerStateError(
      `${path}: incomplete optimizer state for ${broken.slice(0, 5).join(', ')}${broken.length > 5 ? ` (+${broken.length - 5} more)` : ''}`,
    );
  }
  return out;
}

/**
 * Checks that saved moments match the live trainable parameters by NAME and shape. Throws with
 * the missing / unexpected / mis-shaped names; a resume must not attach moments to the wrong tensor.
 */
export function validateOptimizerAgainst(opt: OptimizerCheckpoint, params: Map<string, number[]>): void {
  const missing = [...params.keys()].filter((n) => !opt.expAvg.has(n));
  const unexpected = [...opt.expAvg.keys()].filter((n) => !params.has(n));
  const misShaped: string[] = [];
  for (const [name, shape] of params) {
    const m = opt.expAvg.get(name);
    if (m && m.shape.join(',') !== shape.join(',')) misShaped.push(`${name} saved [${m.shape}] vs model [${shape}]`);
  }
  if (missing.length || unexpected.length || misShaped.length) {
    const show = (xs: string[]) => xs.slice(0, 5).join(', ') + (xs.length > 5 ? ` (+${xs.length - 5} more)` : '');
    const parts: string[] = [];
    if (missing.length) parts.push(`no moments for ${missing.length} trainable parameter(s): ${show(missing)}`);
    if (unexpected.length)
      parts.push(`moments for ${unexpected.length} parameter(s) the model does not train: ${show(unexpected)}`);
    if (misShaped.length) parts.push(`shape mismatch: ${show(misShaped)}`);
    throw new OptimizerStateError(
      `optimizer state does not match the model's trainable parameters: ${parts.join('; ')}. The checkpoint was made with a different LoRA/freeze config; resume with the same config or start fresh.`,
    );
  }
}
