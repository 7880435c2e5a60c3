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
  /**
   * The optimizer state. `lr` is the learning rate in effect (the one the next update will use, as
   * torch's `param_groups[i]["lr"]` after `scheduler.step()`); it is saved as `hyper.lr`, and the
   * configured peak as `hyper.initial_lr`.
   */
  exportState(lr?: number): Promise<OptimizerCheckpoint>;
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
  lrInEffect?: number,
): Promise<CheckpointContents> {
  const tensors: PeftAdapter['tensors'] = new Map();
  const trainable = new Map<string, F32Tensor>();
  for (const [name, v] of params) {
    const t = await variableToF32(v);
    if (isLoraParam(name)) {
      tensors.set(peftKeyForParam(name), {
        dtype: 'F32',
        shape: t.shape,
        bytes: new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength),
      });
    } else {
      trainable.set(name, t);
    }
  }
  if (tensors.size > 0 && !adapterConfig) {
    throw new ResumeError(
      'the model has LoRA parameters but no adapter config was given; pass the LoraConfig (as PEFT json) to the trainer',
    );
  }
  const out: CheckpointContents = { state, optimizer: await optimizer.exportState(lrInEffect), trainable };
  if (tensors.size > 0 && adapterConfig) out.adapter = { config: adapterConfig, tensors };
  return out;
}

function rawToF32(name: string, raw: { dtype: string; shape: number[]; bytes: Uint8Array }): Float32Array {
  if (raw.dtype !== 'F32')
    throw new ResumeError(
      `${name} is ${raw.dtype} in the checkpoint; trainer checkpoints hold F32 (exact resume needs it)`,
    );
  return new Float32Array(raw.bytes.slice().buffer);
}

/**
 * Assigns trained weights to the live trainable variables: LoRA tensors from a PEFT adapter (keys
 * WITH adapter name, as loadPeftAdapter returns them), everything else from `trainable`. Every
 * parameter must be found with its shape and nothing may be left over (torchtune's
 * validate_missing_and_unexpected_for_lora); returns the number of values assigned.
 */
export function assignTrainedWeights(
  params: Map<string, tf.Variable>,
  adapter: PeftAdapter | null,
  trainable: Map<string, F32Tensor>,
  tfns: typeof tf,
  where: string,
): number {
  const missing: string[] = [];
  const used = new Set<string>();
  let values = 0;
  for (const [name, v] of params) {
    let data: Float32Array | undefined;
    let shape: number[] | undefined;
    if (isLoraParam(name)) {
      const key = peftKeyForParam(name);
      const raw = adapter?.tensors.get(key);
      if (raw) {
        data = rawToF32(key, raw);
        shape = raw.shape;
        used.add(key);
      }
    } else {
      const t = trainable.get(name);
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
      throw new ResumeError(
        `${name}: shape [${shape}] in ${where} differs from the model's [${v.shape}]; use the config the weights were trained with`,
      );
    }
    const value = data;
    tfns.tidy(() => v.assign(tfns.tensor(value, v.shape, 'float32')));
    values += value.length;
  }
  const extra = [...(adapter?.tensors.keys() ?? []), ...trainable.keys()].filter((k) => !used.has(k));
  if (missing.length || extra.length) {
    throw new ResumeError(
      `${where} does not match the model: ${missing.length} trainable parameter(s) without saved weights (${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ' ...' : ''}), ${extra.length} saved tensor(s) the model does not train (${extra.slice(0, 4).join(', ')}${extra.length > 4 ? ' ...' : ''}); use the config the weights were trained with`,
    );
  }
  return values;
}

/** Writes a loaded checkpoint into the live variables and optimizer (by name, shapes checked, nothing left over). */
export function applyCheckpoint(
  loaded: LoadedCheckpoint,
  params: Map<string, tf.Variable>,
  optimizer: CheckpointableOptimizer,
  tfns: typeof tf,
  savedNotOptimized?: Map<string, tf.Variable>,
): void {
  validateOptimizerAgainst(loaded.optimizer, new Map([...params].map(([n, v]) => [n, [...v.shape]])));
  assignTrainedWeights(
    savedNotOptimized ? new Map([...params, ...savedNotOptimized]) : params,
    loaded.adapter,
    loaded.trainable,
    tfns,
    `checkpoint ${loaded.dir}`,
  );
  optimizer.importState(loaded.optimizer);
}
