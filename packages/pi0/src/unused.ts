// pi0's training loss comes from the action expert's suffix tokens only. In the LAST layer, the
// PaliGemma (prefix) stream's attention output projection and MLP produce prefix outputs that
// nothing reads, so their LoRA tensors get no gradient — in openpi too. The preflight accepts
// exactly these (by path), names them, and still stops on anything else disconnected.
import { getGemmaVariant, PI0_PATHS, type Pi0Config } from '@vla-lora/gemma-config';

export function pi0UnusedByDesign(cfg: Pi0Config): (name: string) => string | null {
  const last = getGemmaVariant(cfg.paligemmaVariant).depth - 1;
  const prefix = `${PI0_PATHS.languageModel}.layers.${last}.`;
  const reason = `pi0 never reads the prefix output of the last PaliGemma layer (${last}): its o_proj and MLP feed nothing`;
  return (name) => {
    if (!name.startsWith(prefix)) return null;
    const rest = name.slice(prefix.length).split('.');
    const mod = `${rest[0]}.${rest[1]}`;
    return ['self_attn.o_proj', 'mlp.gate_proj', 'mlp.up_proj', 'mlp.down_proj'].includes(mod) ? reason : null;
  };
}
