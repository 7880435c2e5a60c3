// LoRA for pi0 as openpi configures it: the seven projections of every layer of PaliGemma's Gemma
// and of the action expert (never SigLIP, whose attention also has q/k/v_proj), each Gemma stack
// with its variant's rank and alpha (gemma_2b_lora: 16/16, gemma_300m_lora: 32/32).
import { FFN_LINEARS, getGemmaVariant, loraLinearsOf, PI0_PATHS, type Pi0Config } from '@vla-lora/gemma-config';
import type { LoraConfigInput } from '@vla-lora/lora-core';
import { ModelConfigError } from '../errors.js';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A lora-core / PEFT config for `cfg`'s LoRA variants: target_modules as one full-match regex over
 * both Gemma stacks (only those whose variant has LoRA), r/alpha from the PaliGemma variant and a
 * rank_pattern / alpha_pattern entry for the expert when it differs.
 */
export function pi0LoraConfig(cfg: Pi0Config, extra: Partial<LoraConfigInput> = {}): LoraConfigInput {
  const pali = getGemmaVariant(cfg.paligemmaVariant);
  const expert = getGemmaVariant(cfg.actionExpertVariant);
  const stacks: Array<[string, typeof pali]> = [];
  if (pali.lora) stacks.push([`${PI0_PATHS.languageModel}`, pali]);
  if (expert.lora) stacks.push([`${PI0_PATHS.expertModel}`, expert]);
  if (stacks.length === 0) {
    throw new ModelConfigError(
      `pi0 config '${cfg.name}' has no LoRA variant (${pali.name}, ${expert.name}); pick e.g. pi0_lora or pi0_tiny_lora`,
    );
  }
  const alts = stacks.map(([prefix, v]) => {
    const names = loraLinearsOf(v.lora!).map((n) => (FFN_LINEARS.includes(n) ? `mlp\\.${n}` : `self_attn\\.${n}`));
    return `${esc(prefix)}\\.layers\\.\\d+\\.(?:${names.join('|')})`;
  });
  const [, first] = stacks[0]!;
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  for (const [prefix, v] of stacks.slice(1)) {
    if (v.lora!.rank !== first.lora!.rank) rankPattern[`${esc(prefix)}\\..*`] = v.lora!.rank;
    if (v.lora!.alpha !== first.lora!.alpha) alphaPattern[`${esc(prefix)}\\..*`] = v.lora!.alpha;
  }
  return {
    r: first.lora!.rank,
    loraAlpha: first.lora!.alpha,
    targetModules: alts.length === 1 ? alts[0]! : `(?:${alts.join('|')})`,
    rankPattern,
    alphaPattern,
    ...extra,
  };
}
