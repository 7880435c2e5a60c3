// The published pi0 weight layouts and how their keys map onto ours (openpi's PyTorch names,
// PI0Pytorch.state_dict()):
//
//   openpi      openpi's converted PyTorch checkpoint (model.safetensors + config.json), and
//               LeRobot's lerobot/pi0_base, which uses the same names.
//   lerobot     a LeRobot PI0Policy state dict: the same names under `model.` (policy.model is the
//               PI0Pytorch), as LeRobot's save_pretrained writes them.
//   lerobot-legacy  the older lerobot/pi0 (transformers' pre-4.52 PaliGemma layout), whose four
//               prefixes LeRobot renames on load:
//                 .paligemma.language_model.lm_head       → .paligemma.lm_head
//                 .paligemma.language_model.model         → .paligemma.model.language_model
//                 .paligemma.vision_tower                 → .paligemma.model.vision_tower
//                 .paligemma.multi_modal_projector        → .paligemma.model.multi_modal_projector
//               plus its normalisation buffers (normalize_inputs.* …), which are not model weights.
//
// PaliGemma's embed_tokens and lm_head are tied; a file may hold either name or both.
import { PI0_PATHS } from '@vla-lora/gemma-config';
import { WeightsLayoutError } from '../errors.js';

export type Pi0WeightLayout = 'openpi' | 'lerobot' | 'lerobot-legacy';

export const PI0_LEGACY_RENAMES: readonly (readonly [string, string])[] = Object.freeze([
  ['.paligemma.language_model.lm_head', '.paligemma.lm_head'],
  ['.paligemma.language_model.model', '.paligemma.model.language_model'],
  ['.paligemma.vision_tower', '.paligemma.model.vision_tower'],
  ['.paligemma.multi_modal_projector', '.paligemma.model.multi_modal_projector'],
]);

/** Buffers LeRobot's older PI0Policy saved beside the model (normalisation stats): not weights. */
const LEROBOT_BUFFER_PREFIXES = ['normalize_inputs.', 'normalize_targets.', 'unnormalize_outputs.'];
const MODEL_ROOTS = ['paligemma_with_expert.', 'action_', 'state_proj.'];

export const PI0_EMBED_KEY = `${PI0_PATHS.languageModel}.embed_tokens.weight`;
export const PI0_TIED_HEAD_KEY = `${PI0_PATHS.paligemmaLmHead}.weight`;

function applyLegacyRename(key: string): string {
  for (const [from, to] of PI0_LEGACY_RENAMES) {
    const at = key.indexOf(`${from}.`);
    if (at >= 0) return key.slice(0, at) + to + key.slice(at + from.length);
  }
  return key;
}

function isLegacyKey(key: string): boolean {
  return PI0_LEGACY_RENAMES.some(([from]) => key.includes(`${from}.`));
}

export interface Pi0LayoutMapping {
  readonly layout: Pi0WeightLayout;
  /** `model.` for LeRobot policy state dicts, '' otherwise. */
  readonly prefix: string;
  /** Our (openpi) key → the file's key. */
  readonly toFile: ReadonlyMap<string, string>;
  /** File keys that were renamed (legacy prefixes). */
  readonly renamed: number;
  /** File tensors that are not model weights (LeRobot normalisation buffers). */
  readonly buffers: readonly string[];
  /** Which of the tied PaliGemma embedding names the file holds. */
  readonly tied: 'embed_tokens' | 'lm_head' | 'both' | 'neither';
}

/**
 * Detects the layout of a pi0 weights file from its tensor names and maps every model key onto
 * our names. Throws WeightsLayoutError when two file keys land on the same name.
 */
export function mapPi0Layout(fileKeys: readonly string[]): Pi0LayoutMapping {
  const underModel = fileKeys.filter(
    (k) => k.startsWith('model.') && MODEL_ROOTS.some((r) => k.startsWith(`model.${r}`)),
  );
  const bare = fileKeys.filter((k) => MODEL_ROOTS.some((r) => k.startsWith(r)));
  if (underModel.length > 0 && bare.length > 0)
    throw new WeightsLayoutError(
      `the weights file mixes LeRobot policy keys (model.${underModel[0]?.slice(6)}) and bare openpi keys (${bare[0]}); ` +
        'it is neither layout. Re-export it from one tool.',
    );
  const prefix = underModel.length > 0 ? 'model.' : '';
  const toFile = new Map<string, string>();
  const buffers: string[] = [];
  let renamed = 0;
  let legacy = false;
  for (const key of fileKeys) {
    if (LEROBOT_BUFFER_PREFIXES.some((p) => key.startsWith(p))) {
      buffers.push(key);
      continue;
    }
    let ours = prefix && key.startsWith(prefix) ? key.slice(prefix.length) : key;
    if (isLegacyKey(ours)) {
      ours = applyLegacyRename(ours);
      renamed++;
      legacy = true;
    }
    const prev = toFile.get(ours);
    if (prev !== undefined)
      throw new WeightsLayoutError(
        `the weights file has both "${prev}" and "${key}", which are the same parameter "${ours}" in different layouts. Keep one.`,
      );
    toFile.set(ours, key);
  }
  const hasEmbed = toFile.has(PI0_EMBED_KEY);
  const hasHead = toFile.has(PI0_TIED_HEAD_KEY);
  return {
    layout: legacy ? 'lerobot-legacy' : prefix ? 'lerobot' : 'openpi',
    prefix,
    toFile,
    renamed,
    buffers,
    tied: hasEmbed && hasHead ? 'both' : hasEmbed ? 'embed_tokens' : hasHead ? 'lm_head' : 'neither',
  };
}

/** One line saying what was done to read the file (print it before loading). */
export function describePi0Layout(m: Pi0LayoutMapping): string {
  const name = {
    openpi: "openpi PyTorch layout (also LeRobot's lerobot/pi0_base)",
    lerobot: 'LeRobot PI0Policy layout (keys under model.)',
    'lerobot-legacy': 'older lerobot/pi0 layout (transformers < 4.52 PaliGemma names)',
  }[m.layout];
  const parts = [`weights: ${name}`];
  if (m.prefix) parts.push(`stripped "${m.prefix}" from ${m.toFile.size} keys`);
  if (m.renamed) parts.push(`renamed ${m.renamed} keys (${PI0_LEGACY_RENAMES.length} legacy prefixes)`);
  if (m.tied === 'lm_head') parts.push('tied embedding read from lm_head.weight');
  else if (m.tied === 'both') parts.push('tied embedding read from embed_tokens.weight (lm_head.weight ignored)');
  if (m.buffers.length)
    parts.push(`ignored ${m.buffers.length} LeRobot normalisation buffers (norm stats come from norm_stats.json)`);
  return `${parts.join('; ')}.`;
}

/**
 * Maps one PEFT adapter key written against any pi0 layout onto our layout:
 * `base_model.model.` + (LeRobot's `model.` stripped, legacy prefixes renamed) + the rest.
 * LeRobot's pi0 PEFT adapters (LoRA on the expert's q_proj/v_proj and on the five projection
 * heads, optionally modules_to_save) come out as `base_model.model.paligemma_with_expert.…`,
 * `base_model.model.action_in_proj.lora_A.weight`, ….
 */
export function canonicalPi0AdapterKey(key: string): string {
  const PEFT = 'base_model.model.';
  const hasPeft = key.startsWith(PEFT);
  let rest = hasPeft ? key.slice(PEFT.length) : key;
  if (rest.startsWith('model.') && MODEL_ROOTS.some((r) => rest.startsWith(`model.${r}`))) rest = rest.slice(6);
  rest = applyLegacyRename(rest);
  return hasPeft ? PEFT + rest : rest;
}

/** canonicalPi0AdapterKey over a whole adapter; WeightsLayoutError if two keys collide. */
export function canonicalPi0AdapterKeys(keys: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const k of keys) {
    const c = canonicalPi0AdapterKey(k);
    const prev = out.get(c);
    if (prev !== undefined)
      throw new WeightsLayoutError(`adapter keys "${prev}" and "${k}" are the same tensor "${c}" in two layouts.`);
    out.set(c, k);
  }
  return out;
}
