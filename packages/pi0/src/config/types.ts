// A training config: plain JSON (hashed into checkpoints), like openpi's TrainConfig.
export interface OptimConfig {
  /** openpi CosineDecaySchedule. */
  warmupSteps: number;
  peakLr: number;
  decaySteps: number;
  decayLr: number;
  /** openpi AdamW defaults: b1 0.9, b2 0.95, eps 1e-8, weight_decay 1e-10. */
  b1: number;
  b2: number;
  eps: number;
  weightDecay: number;
  /** Global-norm clipping (openpi: 1.0). */
  clipGradientNorm: number;
}

export interface DataConfig {
  /** Dataset directory, relative to the data root (`--data-root`, default `.vla/data`). */
  repoId: string;
  /** When the dataset is absent, generate the synthetic LIBERO task with these settings (demo configs). */
  synthetic: { episodes: number; heldOutEpisodes: number; steps: number; imageSize: number; seed: number } | null;
  batchSize: number;
  /** openpi's delta actions for the first 6 dims (joints/eef), gripper absolute. */
  useDeltaActions: boolean;
}

export interface TrainConfig {
  name: string;
  description: string;
  /** pi0 preset of @vla-lora/gemma-config (structure + LoRA variants). */
  model: { pi0: string };
  /** Freeze-policy preset: LoRA + heads (openpi LoRA), or full PaliGemma + expert LoRA + heads. */
  freeze: 'pi0_lora' | 'pi0_full_paligemma_expert_lora' | 'pi0_full';
  /**
   * openpi's `ema_decay` (its full fine-tuning configs keep an EMA of the weights, 0.99; LoRA configs
   * none). Billed by `plan`; the trainer does not implement EMA yet and refuses such a config.
   */
  ema?: { decay: number };
  data: DataConfig;
  optim: OptimConfig;
  trainer: {
    numTrainSteps: number;
    gradAccumSteps: number;
    saveInterval: number;
    keepLast: number;
    /** Also keep every N-th checkpoint (0 = none). */
    keepEvery: number;
    logInterval: number;
    seed: number;
  };
  /** Held-out evaluation after training. */
  eval: { maxChunks: number; seed: number };
  /** tfjs backend request (auto / wasm / cpu / webgpu / tfjs-node / tfjs-node-gpu). */
  backend: string;
}
