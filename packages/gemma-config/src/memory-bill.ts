import {
  type ActivationStack,
  checkpointedInputBytes,
  inferActivationStacks,
  layerActivationBytes,
  stackActivationBytes,
} from './activation-stacks.js';
import { InvalidConfigError } from './errors.js';
import { bytesPerElement, numel, type ParamDtype, type ParamSpec } from './param-spec.js';

export type ComputeDtype = 'float32' | 'bfloat16' | 'float16';
export type OptimizerKind = 'adamw' | 'sgd-momentum' | 'sgd' | 'none';
/** DeepSpeed ZeRO stage semantics: 1 shards optimizer state, 2 also gradients, 3 also weights. */
export type ShardStage = 0 | 1 | 2 | 3;

export interface MemoryBillOptions {
  specs: readonly ParamSpec[];
  trainable: (spec: ParamSpec) => boolean;
  /** Micro-batch per device. */
  batchSize: number;
  /** Tokens per example; used when `stacks` is not given (stacks are then inferred from the specs). */
  seqLen?: number;
  /** Activation dtype. */
  dtype: ComputeDtype;
  optimizer: OptimizerKind;
  devices?: number;
  zeroStage?: ShardStage;
  stacks?: ActivationStack[];
  gradientCheckpointing?: boolean;
  /** Heads used for inferred stacks (default 8). */
  numHeads?: number;
  /**
   * Storage dtype of trainable weights and their gradients, overriding the spec's (openpi and mixed
   * precision keep float32 master weights for what trains). Default: each spec's own dtype.
   */
  trainableDtype?: ParamDtype;
  /** Storage dtype of frozen weights, overriding the spec's (openpi's train.py casts frozen params to bfloat16). */
  frozenDtype?: ParamDtype;
  /** An exponential moving average of the trainable weights in float32 (openpi's `ema_decay`). */
  ema?: boolean;
}

export interface MemoryBillRow {
  item: 'weights' | 'gradients' | 'optimizer' | 'ema' | 'activations' | 'recompute';
  bytesPerDevice: number;
  note: string;
}

export interface MemoryBill {
  rows: MemoryBillRow[];
  perDeviceBytes: number;
  devices: number;
  params: { total: number; trainable: number };
  stacks: ActivationStack[];
  /** A human-readable table. */
  table: string;
}

const GIB = 1024 ** 3;
const int = (n: number) => n.toLocaleString('en-US');

/** `12.34 GiB` / `5.6 MiB` / `789 B`. */
export function formatBytes(n: number): string {
  if (n >= GIB) return `${(n / GIB).toFixed(2)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * The memory a training run needs per device before it launches:
 * - weights: every spec at its own dtype (sharded over devices at ZeRO-3);
 * - gradients: trainable parameters only, at their dtype (PyTorch keeps grads in the param dtype; ZeRO-2+ shards them);
 * - optimizer: AdamW two float32 moments per trainable element (SGD momentum one, SGD none; ZeRO-1+ shards them);
 * - ema: with `ema`, one float32 copy of the trainable weights (sharded like the weights);
 * - activations: without checkpointing every layer's `layerActivationBytes` per example × batchSize;
 *   with `gradientCheckpointing` only each layer's input (`checkpointedInputBytes`), plus a `recompute`
 *   row: backward of the largest layer holds its recomputed activations and their gradients. Not sharded.
 * `trainableDtype` / `frozenDtype` override the specs' storage dtypes (float32 masters, bf16 frozen base).
 * Temporary buffers, allocator fragmentation and the framework itself are not included.
 */
export function memoryBill(opts: MemoryBillOptions): MemoryBill {
  const devices = opts.devices ?? 1;
  const stage = opts.zeroStage ?? 0;
  if (!Number.isInteger(devices) || devices < 1)
    throw new InvalidConfigError(`devices=${devices} must be a positive integer.`);
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
    throw new InvalidConfigError(`batchSize=${opts.batchSize} must be a positive integer.`);
  let stacks = opts.stacks;
  if (!stacks) {
    if (opts.seqLen === undefined)
      throw new InvalidConfigError(
        'memoryBill needs seqLen (tokens per example) or explicit stacks to estimate activations.',
      );
    stacks = inferActivationStacks(opts.specs, opts.seqLen, opts.numHeads);
  }
  let weights = 0;
  let frozenCount = 0;
  let grads = 0;
  let total = 0;
  let trainable = 0;
  for (const s of opts.specs) {
    const n = numel(s);
    const isTrainable = opts.trainable(s);
    const dtype = (isTrainable ? opts.trainableDtype : opts.frozenDtype) ?? s.dtype;
    const b = n * bytesPerElement(dtype);
    total += n;
    weights += b;
    if (!isTrainable) frozenCount += n;
    if (isTrainable) {
      trainable += n;
      grads += b;
    }
  }
  const moments = opts.optimizer === 'adamw' ? 2 : opts.optimizer === 'sgd-momentum' ? 1 : 0;
  const optim = trainable * 4 * moments;
  const actBytes = bytesPerElement(opts.dtype);
  const ckpt = opts.gradientCheckpointing ?? false;
  const shard = (bytes: number, from: ShardStage): number => (stage >= from ? Math.ceil(bytes / devices) : bytes);
  const dtypeNote = (d: ParamDtype | undefined, what: string, count: number) =>
    d && count > 0 ? `, ${int(count)} ${what} as ${d}` : '';
  const rows: MemoryBillRow[] = [
    {
      item: 'weights',
      bytesPerDevice: shard(weights, 3),
      note: `${int(total)} params${dtypeNote(opts.frozenDtype, 'frozen', frozenCount)}${dtypeNote(opts.trainableDtype, 'trainable', trainable)}${opts.frozenDtype || opts.trainableDtype ? '' : ' at their dtypes'}${stage >= 3 ? `, /${devices} (ZeRO-3)` : ''}`,
    },
    {
      item: 'gradients',
      bytesPerDevice: shard(grads, 2),
      note: `${int(trainable)} trainable${stage >= 2 ? `, /${devices} (ZeRO-2)` : ''}`,
    },
    {
      item: 'optimizer',
      bytesPerDevice: shard(optim, 1),
      note: `${opts.optimizer}: ${moments} fp32 moment(s) per trainable${stage >= 1 ? `, /${devices} (ZeRO-1)` : ''}`,
    },
  ];
  if (opts.ema) {
    rows.push({
      item: 'ema',
      bytesPerDevice: shard(trainable * 4, 3),
      note: `EMA of the ${int(trainable)} trainable weights in float32${stage >= 3 ? `, /${devices} (ZeRO-3)` : ''}`,
    });
  }
  const stackList = stacks.map((s) => `${s.name} ${s.layers}L x ${s.sequences ?? 1}x${s.tokens}t`).join(', ');
  if (ckpt) {
    // Kept between forward and backward: each layer's input. During backward one layer at a time is
    // recomputed in full and its activation gradients are live beside it (same size): the largest
    // such layer over all stacks, for the whole micro-batch.
    const kept = stacks.reduce((a, st) => a + checkpointedInputBytes(st, actBytes), 0);
    const largest = stacks.reduce((m, st) => Math.max(m, layerActivationBytes(st, actBytes)), 0);
    rows.push(
      {
        item: 'activations',
        bytesPerDevice: kept * opts.batchSize,
        note: `checkpointed: layer inputs only, batch ${opts.batchSize} x ${formatBytes(kept)}/example, ${opts.dtype}; ${stackList}`,
      },
      {
        item: 'recompute',
        bytesPerDevice: 2 * largest * opts.batchSize,
        note: `backward of the largest layer: its recomputed activations + their gradients (batch ${opts.batchSize} x 2 x ${formatBytes(largest)})`,
      },
    );
  } else {
    const perExample = stacks.reduce((a, st) => a + stackActivationBytes(st, actBytes, false), 0);
    rows.push({
      item: 'activations',
      bytesPerDevice: perExample * opts.batchSize,
      note: `batch ${opts.batchSize} x ${formatBytes(perExample)}/example, ${opts.dtype}, every layer kept; ${stackList}`,
    });
  }
  const perDeviceBytes = rows.reduce((a, r) => a + r.bytesPerDevice, 0);
  const lines = [
    `memory per device (${devices} device${devices > 1 ? 's' : ''}${stage ? `, ZeRO-${stage}` : ''})`,
    ...rows.map((r) => `  ${r.item.padEnd(12)}${formatBytes(r.bytesPerDevice).padStart(12)}  ${r.note}`),
    `  ${'total'.padEnd(12)}${formatBytes(perDeviceBytes).padStart(12)}  (estimate; excludes temporaries and allocator overhead)`,
  ];
  return { rows, perDeviceBytes, devices, params: { total, trainable }, stacks, table: lines.join('\n') };
}
