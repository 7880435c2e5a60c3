import { FreezePolicy, freeze, train, type FreezePolicyOptions, type FreezeRule } from './policy.js';

/** The five pi0 projection heads (openpi PI0Pytorch), anchored at the root. */
export const PI0_HEAD_RULES: readonly FreezeRule[] = [
  'action_in_proj',
  'action_out_proj',
  'state_proj',
  'action_time_mlp_in',
  'action_time_mlp_out',
].map((h) => train(`^${h}`, 'pi0 projection head'));

/** PEFT's LoRA tensors. */
export const LORA_RULES: readonly FreezeRule[] = [train('lora_A', 'LoRA'), train('lora_B', 'LoRA')];

/** Plain LoRA (PEFT's default): only lora_A / lora_B train. */
export function loraPolicy(options?: FreezePolicyOptions): FreezePolicy {
  return new FreezePolicy([...LORA_RULES], options);
}

/** pi0 LoRA: LoRA tensors of PaliGemma and the expert plus the five projection heads; everything else frozen. */
export function pi0LoraPolicy(options?: FreezePolicyOptions): FreezePolicy {
  return new FreezePolicy([...LORA_RULES, ...PI0_HEAD_RULES], options);
}

/**
 * pi0 with full PaliGemma and LoRA on the expert: PaliGemma (vision tower, projector, LM) trains,
 * the expert trains only its LoRA tensors, the heads train. The expert's own lm_head stays frozen
 * (pi0 never uses it; leaving it trainable is how 2.94B becomes "about 3.2B").
 */
export function pi0FullPaligemmaExpertLoraPolicy(options?: FreezePolicyOptions): FreezePolicy {
  return new FreezePolicy(
    [train('^paligemma_with_expert.paligemma', 'full PaliGemma'), ...LORA_RULES, ...PI0_HEAD_RULES],
    options,
  );
}

/** Full fine-tuning: every parameter trains, LoRA base weights included (named explicitly). */
export function fullFinetunePolicy(options?: FreezePolicyOptions): FreezePolicy {
  return new FreezePolicy(
    [
      train('**', 'full fine-tuning'),
      { ...train('base_layer', 'full fine-tuning includes LoRA base weights'), optional: true },
    ],
    options,
  );
}

/**
 * Full fine-tuning of pi0: everything except the expert's lm_head, which pi0 never calls (it
 * would get no gradient; the preflight check would rightly flag it).
 */
export function pi0FullFinetunePolicy(options?: FreezePolicyOptions): FreezePolicy {
  return new FreezePolicy(
    [
      train('**', 'full fine-tuning'),
      { ...train('base_layer', 'full fine-tuning includes LoRA base weights'), optional: true },
      { ...freeze('^paligemma_with_expert.gemma_expert.lm_head', 'unused by pi0'), optional: true },
    ],
    options,
  );
}
