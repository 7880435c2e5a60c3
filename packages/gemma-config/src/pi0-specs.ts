import { gemmaModelSpecs } from './gemma-specs.js';
import { loraLinearsOf, type GemmaVariant } from './gemma-variants.js';
import { linearSpecs } from './linear-spec.js';
import type { ParamDtype, ParamSpec } from './param-spec.js';
import { pi0Variants, validatePi0Config, type Pi0Config } from './pi0-config.js';
import { siglipNumTokens, type SiglipConfig } from './siglip.js';

/** Module paths of openpi's PyTorch pi0 (PI0Pytorch), the one naming every package uses. */
export const PI0_PATHS = Object.freeze({
  paligemma: 'paligemma_with_expert.paligemma',
  visionTower: 'paligemma_with_expert.paligemma.model.vision_tower',
  projector: 'paligemma_with_expert.paligemma.model.multi_modal_projector',
  languageModel: 'paligemma_with_expert.paligemma.model.language_model',
  paligemmaLmHead: 'paligemma_with_expert.paligemma.lm_head',
  expert: 'paligemma_with_expert.gemma_expert',
  expertModel: 'paligemma_with_expert.gemma_expert.model',
  expertLmHead: 'paligemma_with_expert.gemma_expert.lm_head',
});

/** The five pi0 projection heads, in PI0Pytorch's registration order. */
export const PI0_HEADS = [
  'action_in_proj',
  'action_out_proj',
  'state_proj',
  'action_time_mlp_in',
  'action_time_mlp_out',
] as const;
export type Pi0HeadName = (typeof PI0_HEADS)[number];

/**
 * Names openpi keeps in float32 under bf16 precision (`to_bfloat16_for_selected_params`): patch and
 * position embeddings and every Gemma RMSNorm. openpi matches these as substrings; the paths here
 * are the exact ones it ends up matching.
 */
function openpiDtype(precision: Pi0Config['precision']): (path: string, fallback: ParamDtype) => ParamDtype {
  return (path) => {
    if (precision === 'float32') return 'float32';
    if (
      path.includes('vision_tower.vision_model.embeddings.patch_embedding.') ||
      path.includes('vision_tower.vision_model.embeddings.position_embedding.weight') ||
      path.endsWith('.input_layernorm.weight') ||
      path.endsWith('.post_attention_layernorm.weight') ||
      path.endsWith('model.norm.weight') ||
      path.endsWith('language_model.norm.weight')
    ) {
      return 'float32';
    }
    return 'bfloat16';
  };
}

/** Specs of transformers' SiglipVisionModel (PaliGemma: no pooling head) under `prefix` (with trailing dot). */
export function siglipVisionSpecs(
  cfg: SiglipConfig,
  prefix: string,
  dtypeOf: (path: string) => ParamDtype = () => 'float32',
): ParamSpec[] {
  const h = cfg.hiddenSize;
  const tokens = siglipNumTokens(cfg);
  const out: ParamSpec[] = [];
  const add = (path: string, shape: number[]): void => {
    out.push({ path, shape, dtype: dtypeOf(path) });
  };
  const E = `${prefix}vision_model.embeddings`;
  add(`${E}.patch_embedding.weight`, [h, cfg.numChannels, cfg.patchSize, cfg.patchSize]);
  add(`${E}.patch_embedding.bias`, [h]);
  add(`${E}.position_embedding.weight`, [tokens, h]);
  const lin = (mod: string, inF: number, outF: number): void => {
    for (const s of linearSpecs(mod, inF, outF, { bias: true, dtype: dtypeOf(`${mod}.weight`) })) out.push(s);
  };
  const ln = (mod: string): void => {
    add(`${mod}.weight`, [h]);
    add(`${mod}.bias`, [h]);
  };
  for (let i = 0; i < cfg.numLayers; i++) {
    const L = `${prefix}vision_model.encoder.layers.${i}`;
    // SiglipAttention registers k, v, q, out in this order.
    lin(`${L}.self_attn.k_proj`, h, h);
    lin(`${L}.self_attn.v_proj`, h, h);
    lin(`${L}.self_attn.q_proj`, h, h);
    lin(`${L}.self_attn.out_proj`, h, h);
    ln(`${L}.layer_norm1`);
    lin(`${L}.mlp.fc1`, h, cfg.intermediateSize);
    lin(`${L}.mlp.fc2`, cfg.intermediateSize, h);
    ln(`${L}.layer_norm2`);
  }
  ln(`${prefix}vision_model.post_layernorm`);
  return out;
}

function gemmaLora(v: GemmaVariant, cfg: Pi0Config) {
  return v.lora
    ? { rank: v.lora.rank, targets: loraLinearsOf(v.lora), adapterName: cfg.loraAdapterName, dtype: 'float32' as const }
    : undefined;
}

/**
 * Every parameter of openpi's PI0Pytorch for `cfg`, in `named_parameters()` order, with openpi's
 * names and PyTorch layouts; LoRA variants replace each targeted projection with PEFT's
 * base_layer / lora_A / lora_B specs. Nothing is allocated.
 *
 * Included: SigLIP (no head), the projector (with bias), PaliGemma's Gemma LM with embed_tokens
 * (its lm_head is tied: an alias, counted once), the expert's Gemma layers and norm (no
 * embed_tokens: openpi sets it to None) and the expert's own lm_head (untied by that, unused by
 * pi0, still a parameter), and the five heads.
 */
export function pi0ParamSpecs(cfg: Pi0Config): ParamSpec[] {
  validatePi0Config(cfg);
  const { paligemma, expert } = pi0Variants(cfg);
  const dtypeOf = openpiDtype(cfg.precision);
  const specs: ParamSpec[] = [];
  specs.push(...siglipVisionSpecs(cfg.siglip, `${PI0_PATHS.visionTower}.`, (p) => dtypeOf(p, 'bfloat16')));
  specs.push(
    ...linearSpecs(`${PI0_PATHS.projector}.linear`, cfg.siglip.hiddenSize, paligemma.width, {
      bias: true,
      dtype: dtypeOf(`${PI0_PATHS.projector}.linear.weight`, 'bfloat16'),
    }),
  );
  const lm = gemmaModelSpecs(paligemma, {
    prefix: `${PI0_PATHS.languageModel}.`,
    vocabSize: cfg.vocabSize,
    lora: gemmaLora(paligemma, cfg),
    dtypeOf,
  });
  const embed = lm[0];
  if (embed) embed.aliases = [`${PI0_PATHS.paligemmaLmHead}.weight`];
  specs.push(...lm);
  specs.push(
    ...gemmaModelSpecs(expert, {
      prefix: `${PI0_PATHS.expertModel}.`,
      vocabSize: null,
      lora: gemmaLora(expert, cfg),
      dtypeOf,
    }),
  );
  const expertHead = `${PI0_PATHS.expertLmHead}.weight`;
  specs.push({ path: expertHead, shape: [cfg.vocabSize, expert.width], dtype: dtypeOf(expertHead, 'bfloat16') });
  const w = expert.width;
  const head = (name: Pi0HeadName, inF: number, outF: number): ParamSpec[] =>
    linearSpecs(name, inF, outF, { bias: true, dtype: 'float32' });
  specs.push(...head('action_in_proj', cfg.actionDim, w));
  specs.push(...head('action_out_proj', w, cfg.actionDim));
  specs.push(...head('state_proj', cfg.actionDim, w));
  specs.push(...head('action_time_mlp_in', 2 * w, w));
  specs.push(...head('action_time_mlp_out', w, w));
  return specs;
}
