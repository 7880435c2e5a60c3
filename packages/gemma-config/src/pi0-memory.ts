import { pi0ActivationStacks } from './activation-stacks.js';
import { type MemoryBill, memoryBill, type ShardStage } from './memory-bill.js';
import type { ParamSpec } from './param-spec.js';
import type { Pi0Config } from './pi0-config.js';

/** What openpi's README ("Requirements") publishes for one GPU, per mode. */
export const OPENPI_PUBLISHED_MEMORY = {
  inference: { bytes: 8e9, text: '> 8 GB (inference, e.g. RTX 4090)' },
  lora: { bytes: 22.5e9, text: '> 22.5 GB (LoRA fine-tuning, e.g. RTX 4090)' },
  full: { bytes: 70e9, text: '> 70 GB (full fine-tuning, e.g. A100 80GB / H100)' },
  source: 'openpi README, "Requirements" (one GPU)',
} as const;

export interface Pi0MemoryBillOptions {
  specs: readonly ParamSpec[];
  trainable: (spec: ParamSpec) => boolean;
  batchSize: number;
  /** openpi's `ema_decay` is set (its full fine-tuning configs): a float32 EMA of the trainable weights. */
  ema?: boolean;
  /**
   * Recompute each SigLIP / Gemma block in backward (openpi wraps every block in `nn.remat`). Default: on
   * for bfloat16 (real-size) configs, off for the float32 toy configs.
   */
  gradientCheckpointing?: boolean;
  devices?: number;
  zeroStage?: ShardStage;
}

/**
 * The memory bill of training pi0 as openpi does it: trainable weights (and their gradients, AdamW
 * moments, EMA) in float32, frozen weights cast to bfloat16 (openpi's train.py), activations in the
 * config's precision over pi0's three stacks (SigLIP per camera, PaliGemma prefix, expert suffix
 * attending to prefix + suffix), block rematerialisation on for real-size configs.
 */
export function pi0MemoryBill(cfg: Pi0Config, opts: Pi0MemoryBillOptions): MemoryBill {
  const bf16 = cfg.precision === 'bfloat16';
  return memoryBill({
    specs: opts.specs,
    trainable: opts.trainable,
    batchSize: opts.batchSize,
    dtype: bf16 ? 'bfloat16' : 'float32',
    optimizer: 'adamw',
    stacks: pi0ActivationStacks(cfg),
    gradientCheckpointing: opts.gradientCheckpointing ?? bf16,
    trainableDtype: 'float32',
    ...(bf16 ? { frozenDtype: 'bfloat16' as const } : {}),
    ema: opts.ema ?? false,
    ...(opts.devices !== undefined ? { devices: opts.devices } : {}),
    ...(opts.zeroStage !== undefined ? { zeroStage: opts.zeroStage } : {}),
  });
}
