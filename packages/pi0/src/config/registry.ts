// Named configs, like openpi's `_CONFIGS` (pi0_libero, pi0_libero_low_mem_finetune ...).
import { Pi0ConfigError } from '../errors.js';
import type { OptimConfig, TrainConfig } from './types.js';

/** openpi's defaults: AdamW(b1 .9, b2 .95, eps 1e-8, wd 1e-10), clip 1.0, warmup 1k, peak 2.5e-5 -> 2.5e-6 over 30k. */
export const OPENPI_OPTIM: OptimConfig = {
  warmupSteps: 1000,
  peakLr: 2.5e-5,
  decaySteps: 30_000,
  decayLr: 2.5e-6,
  b1: 0.9,
  b2: 0.95,
  eps: 1e-8,
  weightDecay: 1e-10,
  clipGradientNorm: 1.0,
};

/** openpi's LIBERO schedule for the real-size configs: batch 32, 30k steps, its optimizer, checkpoint cadence and eval. */
function openpiLibero(c: Pick<TrainConfig, 'name' | 'description' | 'model' | 'freeze' | 'ema'>): TrainConfig {
  return {
    ...c,
    data: { repoId: 'physical-intelligence/libero', synthetic: null, batchSize: 32, useDeltaActions: false },
    optim: { ...OPENPI_OPTIM },
    trainer: {
      numTrainSteps: 30_000,
      gradAccumSteps: 1,
      saveInterval: 1000,
      keepLast: 3,
      keepEvery: 5000,
      logInterval: 100,
      seed: 42,
    },
    eval: { maxChunks: 256, seed: 0 },
    backend: 'auto',
  };
}

/** The few-step smoke runs at toy widths (tests, CI) on the small synthetic dataset. */
function smoke(
  c: Pick<TrainConfig, 'name' | 'description' | 'model' | 'freeze'>,
  steps: { numTrainSteps: number; saveInterval: number },
): TrainConfig {
  return {
    ...c,
    data: {
      repoId: 'synthetic-libero-smoke',
      synthetic: { episodes: 6, heldOutEpisodes: 2, steps: 24, imageSize: 32, seed: 99 },
      batchSize: 2,
      useDeltaActions: false,
    },
    optim: { ...OPENPI_OPTIM, warmupSteps: 2, peakLr: 1e-3, decaySteps: 10, decayLr: 1e-4 },
    trainer: {
      numTrainSteps: steps.numTrainSteps,
      gradAccumSteps: 1,
      saveInterval: steps.saveInterval,
      keepLast: 2,
      keepEvery: 0,
      logInterval: 1,
      seed: 42,
    },
    eval: { maxChunks: 4, seed: 0 },
    backend: 'auto',
  };
}

const CONFIGS: TrainConfig[] = [
  openpiLibero({
    name: 'pi0_libero',
    description:
      "openpi's full fine-tuning of pi0 on LIBERO: every weight trains in float32, AdamW, EMA 0.99 (plan only here: > 70 GB per openpi; the trainer refuses EMA configs)",
    model: { pi0: 'pi0' },
    freeze: 'pi0_full',
    ema: { decay: 0.99 },
  }),
  openpiLibero({
    name: 'pi0_libero_lora',
    description:
      'pi0 (PaliGemma gemma_2b_lora r16 + expert gemma_300m_lora r32) on LIBERO, openpi sizes and schedule (needs real weights: --base-weights)',
    model: { pi0: 'pi0_lora' },
    freeze: 'pi0_lora',
  }),
  openpiLibero({
    name: 'pi0_libero_expert_lora',
    description:
      'pi0 with full PaliGemma and LoRA on the action expert only (~91% trainable; see the memory bill before launching)',
    model: { pi0: 'pi0_expert_lora' },
    freeze: 'pi0_full_paligemma_expert_lora',
  }),
  {
    name: 'pi0_libero_lora_tiny',
    description:
      'the embedded demo: pi0 structure at toy widths (pi0_tiny_lora) on the synthetic LIBERO task; trains on CPU/wasm in minutes',
    model: { pi0: 'pi0_tiny_lora' },
    freeze: 'pi0_lora',
    data: {
      repoId: 'synthetic-libero',
      synthetic: { episodes: 48, heldOutEpisodes: 8, steps: 40, imageSize: 32, seed: 1234 },
      batchSize: 8,
      useDeltaActions: false,
    },
    optim: { ...OPENPI_OPTIM, warmupSteps: 20, peakLr: 3e-3, decaySteps: 400, decayLr: 3e-4 },
    trainer: {
      numTrainSteps: 400,
      gradAccumSteps: 1,
      saveInterval: 100,
      keepLast: 2,
      keepEvery: 0,
      logInterval: 10,
      seed: 42,
    },
    eval: { maxChunks: 64, seed: 0 },
    backend: 'auto',
  },
  smoke(
    {
      name: 'pi0_libero_lora_realvocab_smoke',
      description:
        "a few steps at toy widths with PaliGemma's real vocabulary (257,152, <locNNNN>/<segNNN>) and max_token_len 48: needs --tokenizer (a SentencePiece model of that size)",
      model: { pi0: 'pi0_tiny_realvocab_lora' },
      freeze: 'pi0_lora',
    },
    { numTrainSteps: 4, saveInterval: 2 },
  ),
  smoke(
    {
      name: 'pi0_libero_lora_smoke',
      description: 'a few steps of the tiny config (tests, CI smoke)',
      model: { pi0: 'pi0_tiny_lora' },
      freeze: 'pi0_lora',
    },
    { numTrainSteps: 6, saveInterval: 3 },
  ),
];

export function configNames(): string[] {
  return CONFIGS.map((c) => c.name);
}

export function listConfigs(): Array<{ name: string; description: string }> {
  return CONFIGS.map((c) => ({ name: c.name, description: c.description }));
}

/** A named config (a fresh copy). Throws listing the names. */
export function getTrainConfig(name: string): TrainConfig {
  const c = CONFIGS.find((x) => x.name === name);
  if (!c) throw new Pi0ConfigError(`unknown config "${name}"; known configs: ${configNames().join(', ')}`);
  return structuredClone(c);
}
