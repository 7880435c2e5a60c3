// Steps 1 and 2 of the recipe: build pi0 (base weights from a file, or a seeded init), inject LoRA.
import { getPi0Config, type Pi0Config } from '@vla-lora/gemma-config';
import { injectLora, loraConfigToPeft, makeLoraConfig, type InjectReport, type LoraConfig } from '@vla-lora/lora-core';
import { loadPi0Weights, Pi0Policy, pi0LoraConfig } from '@vla-lora/models';
import { RngStreams } from '@vla-lora/trainer';
import type { TrainConfig } from './config/index.js';
import type { PeftAdapter } from '@vla-lora/checkpoint-io';

export interface BuiltPi0 {
  pi0: Pi0Config;
  policy: Pi0Policy;
  lora: LoraConfig;
  inject: InjectReport;
  /** adapter_config.json content. */
  adapterConfig: PeftAdapter['config'];
  /** Where the base weights came from (for the log). */
  weightsFrom: string;
}

/**
 * The base model: openpi PyTorch-layout weights from `baseWeights` (strict: every parameter present
 * with its shape), else a seeded random init (the tiny demo has no pretrained weights) — the same
 * seed gives the same bits, which is what makes a resumed run rebuild the identical frozen base.
 */
export async function buildPi0(cfg: TrainConfig, opts: { baseWeights?: string } = {}): Promise<BuiltPi0> {
  const pi0 = getPi0Config(cfg.model.pi0);
  let policy: Pi0Policy;
  let weightsFrom: string;
  if (opts.baseWeights) {
    policy = Pi0Policy.create(pi0, { init: 'zeros' });
    // models' own loader: file, directory or sharded index; bf16/f16 converted; the layout (openpi,
    // LeRobot, older lerobot/pi0) detected and renamed, the tied embedding from embed_tokens or
    // lm_head; strict about every other tensor. What it did goes into the log line.
    const r = await loadPi0Weights(policy, opts.baseWeights);
    weightsFrom = `${opts.baseWeights} (${r.loaded} tensors, ${r.values.toLocaleString('en-US')} values loaded, strict) — ${r.layoutDescription}`;
  } else {
    const init = new RngStreams(cfg.trainer.seed).get('init');
    policy = Pi0Policy.create(pi0, { init: 'random', rng: init });
    weightsFrom = `no --base-weights: seeded random init (seed ${cfg.trainer.seed}); this is the untrained base the demo compares against`;
  }
  // openpi rematerialises every block: on by default for the real-size (bf16) configs.
  policy.setGradientCheckpointing(pi0.precision === 'bfloat16');
  const lora = makeLoraConfig({ ...pi0LoraConfig(pi0), seed: cfg.trainer.seed });
  const inject = injectLora(policy, lora, { adapterName: pi0.loraAdapterName });
  const adapterConfig = loraConfigToPeft(lora, {
    base_model_name_or_path: opts.baseWeights ?? `vla-lora:${pi0.name}:seed${cfg.trainer.seed}`,
  }) as PeftAdapter['config'];
  return { pi0, policy, lora, inject, adapterConfig, weightsFrom };
}
