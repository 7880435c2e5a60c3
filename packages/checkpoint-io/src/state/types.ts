// Shapes of a resumable training checkpoint. No tfjs: tensors are plain Float32Arrays with shapes.
import type { PeftAdapter } from '../peft/index.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A float32 tensor, row-major. */
export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

/**
 * AdamW state keyed by parameter NAME (never by position, unlike torch's optimizer.state_dict()),
 * so that adding, removing or reordering parameters can never attach moments to the wrong tensor.
 */
export interface OptimizerCheckpoint {
  /** First moments, `exp_avg.<name>` on disk. */
  expAvg: Map<string, F32Tensor>;
  /** Second moments, `exp_avg_sq.<name>` on disk. */
  expAvgSq: Map<string, F32Tensor>;
  /** torch's per-parameter `state[p]['step']`. */
  steps: Map<string, number>;
  /** Hyperparameters as configured (lr, betas, eps, weight_decay, ...), kept for inspection. */
  hyper: { [key: string]: JsonValue };
}

/** One line of metrics history (loss, lr, grad norm, step time ...). */
export type MetricRecord = { step: number } & { [key: string]: JsonValue };

/** What the trainer hands to `saveCheckpoint` besides the tensors. */
export interface TrainerStateInput {
  /** Optimizer steps completed (the step to continue from). */
  globalStep: number;
  epoch: number;
  /** The data sampler's resumable cursor (opaque to checkpoint-io). */
  dataCursor: JsonValue;
  /** Serialised RNG state(s) (opaque to checkpoint-io). */
  rng: JsonValue;
  /** Scheduler state (e.g. name, parameters, last lr). */
  scheduler: JsonValue;
  /** Metrics logged so far, restored on resume so curves continue. */
  metricsHistory: MetricRecord[];
  /** The full training config; its hash is checked on resume. */
  config: JsonValue;
  /** Anything else the caller wants back on resume. */
  extra?: JsonValue;
}

/** trainer_state.json, as read back. */
export interface TrainerState extends TrainerStateInput {
  formatVersion: number;
  configHash: string;
  /** ISO-8601 time the checkpoint was written. */
  timestamp: string;
  /** Files the checkpoint holds (relative path -> byte size); loading checks each is present. */
  files: Record<string, number>;
}

/** Everything `saveCheckpoint` writes. */
export interface CheckpointContents {
  state: TrainerStateInput;
  optimizer: OptimizerCheckpoint;
  /** LoRA adapter in PEFT form (keys WITH adapter name, as loadPeftAdapter returns them). */
  adapter?: PeftAdapter;
  /** Trainable non-LoRA weights (projection heads ...) by PyTorch name. */
  trainable?: Map<string, F32Tensor>;
}

/** What `loadCheckpoint` returns. */
export interface LoadedCheckpoint {
  /** Absolute path of the checkpoint directory that was loaded. */
  dir: string;
  /** The global step, read from trainer_state.json (never from the directory name). */
  step: number;
  state: TrainerState;
  optimizer: OptimizerCheckpoint;
  adapter: PeftAdapter | null;
  trainable: Map<string, F32Tensor>;
  /** Things the caller should print (config override accepted, pointer missing, name/step disagreement ...). */
  warnings: string[];
}

export interface RetentionPolicy {
  /** Keep the K most recent checkpoints (default: keep all). */
  keepLast?: number;
  /** Also keep every checkpoint whose step is a multiple of N (milestones). */
  keepEvery?: number;
}
