// Between live tfjs variables / optimizer and checkpoint-io's plain records.
import type * as tf from '@tensorflow/tfjs-core';
import {
  validateOptimizerAgainst,
  type CheckpointContents,
  type F32Tensor,
  type LoadedCheckpoint,
  type OptimizerCheckpoint,
  type PeftAdapter,
  type TrainerStateInput,
} from '@vla-lora/checkpoint-io';
import { ResumeError } from '../errors.js';
import { isLoraParam, peftKeyForParam } from './names.js';

/** What the loop needs from an optimizer to checkpoint it. */
export interface CheckpointableOptimizer {
  exportState(): Promise<OptimizerCheckpoint>;
  importState(state: OptimizerCheckpoint): void;
}

export async function variableToF32(v: tf.Variable | tf.Tensor): Promise<F32Tensor> {
  const data = (await v.data()) as Float32Array;
  return { shape: [...v.shape], data: new Float32Array(data) };
}

/** Splits the trainable parameters into the PEFT adapter (LoRA) and `trainable.safetensors` (the rest). */
export async function collectCheckpoint(
  params: Map<string, tf.Variable>,
  optimizer: CheckpointableOptimizer,
  state: TrainerStateInput,
  adapterConfig: PeftAdapter['config'] | null,
): Promise<CheckpointContents> {
  const tensors: PeftAdapter['tensors'] = new Map();
  const trainable = new Map<string, F32Tensor>();
  for (const [name, v] of params) {
    const t = await variableToF32(v);
    if (isLoraParam(name)) {
      tensors.set(peftKeyForParam(name), { dtype: 'F32', shape: t.shape, bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) });
    } else {
      trainable.set(name, t);
    }
  }
  if (tensors.size > 0 && !adapterConfig) {
    throw new ResumeError('the model has LoRA parameters but no adapter config was given; pass the LoraConfig (as PEFT json) to the trainer');
  }
  const out: CheckpointContents = { state, optimizer: await optimizer.exportState(), trainable };
  if (tensors.size > 0 && adapterConfig) out.adapter = { config: adapterConfig, tensors };
  return out;
}

function rawToF32(name: string, raw: { dtype: string; shape: number[]; bytes: Uint8Array }): Float32Array {
  if (raw.dtype !== 'F32') throw new ResumeError(`${name} is ${raw.dtype} in the checkpoint; trainer checkpoints hold F32 (exact resume needs it)`);
  return new Float32Array(raw.bytes.slice().buffer);
}

/**
 * Writes a loaded checkpoint into the live variables and optimizer. Every trainable parameter
 * must be found (by name, with its shape) and nothing extra may be left over.
 */
export function applyCheckpoint(loaded: LoadedCheckpoint, params: Map<string, tf.Variable>, optimizer: CheckpointableOptimizer, tfns: typeof tf): void {
  validateOptimizerAgainst(loaded.optimizer, new Map([...params].map(([n, v]) => [n, [...v.shape]])));
  const missing: string[] = [];
  const used = new Set<string>();
  for (const [name, v] of params) {
    let data: Float32Array | undefined;
    let shape: number[] | undefined;
    if (isLoraParam(name)) {
      const key = peftKeyForParam(name);
      const raw = loaded.adapter?.tensors.get(key);
      if (raw) {
        data = rawToF32(key, raw);
        shape = raw.shape;
        used.add(key);
      }
    } else {
      const t = loaded.trainable.get(name);
      if (t) {
        data = t.data;
        shape = t.shape;
        used.add(name);
      }
    }
    if (!data || !shape) {
      missing.push(name);
      continue;
    }
    if (shape.join(',') !== v.shape.join(',')) {
      throw new ResumeError(`${name}: checkpoint shape [${shape}] differs from the model's [${v.shape}]; resume with the config the run was started with`);
    }
    const value = data;
    tfns.tidy(() => v.assign(tfns.tensor(value, v.shape, 'float32')));
  }
  const extra = [...(loaded.adapter?.tensors.keys() ?? []), ...loaded.trainable.keys()].filter((k) => !used.has(k));
  if (missing.length || extra.length) {
    throw new ResumeError(
      `checkpoint ${loaded.dir} does not match the model: ${missing.length} trainable parameter(s) without saved weights (${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ' ...' : ''}), ${extra.length} saved tensor(s) the model does not train (${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ' ...' : ''}); resume with the config the run was started with`,
    );
  }
  optimizer.importState(loaded.optimizer);
}
