// The Gemma + LoRA that gemma-step.ts and gemma-profile.ts time (not a bench itself): transformers-style
// configs, r=8 LoRA (alpha 16, gaussian init) on all seven projections, seeded random token ids.
import { injectLora } from '@vla-lora/lora-core';
import { GemmaForCausalLM, parseGemmaConfig, SeededRandom } from '../src/index.js';

/** The shapes of the fixture's tiny Gemma (fixtures/peft-tiny-gemma). */
export const TINY_GEMMA = {
  vocab_size: 256,
  hidden_size: 64,
  intermediate_size: 128,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 1,
  head_dim: 16,
  rms_norm_eps: 1e-6,
  rope_theta: 10000,
  model_type: 'gemma',
};

/** The wide case: hidden 512, MLP 2048, 8 heads of 64 (one KV head), `layers` layers. */
export function wideGemma(layers = 4): typeof TINY_GEMMA {
  return {
    ...TINY_GEMMA,
    hidden_size: 512,
    intermediate_size: 2048,
    num_hidden_layers: layers,
    num_attention_heads: 8,
    head_dim: 64,
  };
}

/** A seeded random Gemma with LoRA on q/k/v/o/gate/up/down (the LoRA weights trainable, the rest frozen). */
export function gemmaWithLora(cfg: typeof TINY_GEMMA): GemmaForCausalLM {
  const model = GemmaForCausalLM.create(parseGemmaConfig(cfg), { init: 'random', rng: new SeededRandom(0) });
  injectLora(model, {
    r: 8,
    loraAlpha: 16,
    targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    initLoraWeights: 'gaussian',
    seed: 1,
  });
  return model;
}

/** `batch` sequences of `seq` token ids uniform over the vocabulary (the same ids on every call). */
export function randomIds(batch: number, seq: number, vocabSize: number): number[][] {
  const rng = new SeededRandom(1);
  return Array.from({ length: batch }, () => Array.from({ length: seq }, () => Math.floor(rng.uniform() * vocabSize)));
}
