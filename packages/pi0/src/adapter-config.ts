// An adapter's own LoRA config, translated onto our pi0 module names, so that a PEFT adapter whose
// adapter_config.json targets other modules than our default (LeRobot's pi0 PEFT default puts LoRA
// on the action expert's q_proj/v_proj AND on the five projection heads, see
// huggingface/lerobot src/lerobot/policies/pi0/modeling_pi0.py `PI0Policy._get_default_peft_targets`)
// is wrapped exactly as the adapter says and then loaded strictly by lora-core's applyAdapter.
//
// The adapter's target_modules / exclude_modules / modules_to_save / rank_pattern / alpha_pattern
// are evaluated by checkpoint-io's PEFT rulebook against each module name as the adapter's model
// spelled it (LeRobot's PI0Policy holds PI0Pytorch as `.model`, so `model.` + ours); the result is
// a config in our names (one full-match regex of the wrapped modules, per-module rank/alpha
// patterns where they differ from r / lora_alpha). modules_to_save copies load as full weights.
import type { PeftAdapter } from '@vla-lora/checkpoint-io';
import {
  Linear,
  LoraLinear,
  loraConfigFromPeft,
  loraConfigToPeft,
  loraLayers,
  matchTarget,
  namedModules,
  rankAndAlphaFor,
  type LoraConfig,
  type Module,
  PEFT_PREFIX,
} from '@vla-lora/lora-core';
import { isModuleToSave } from '@vla-lora/checkpoint-io';
import { remapPi0AdapterLayout } from './adapter-layout.js';

const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const LEROBOT_PREFIX = 'base_model.model.model.';

export interface Pi0AdapterPlan {
  /** The adapter's config in our module names (what to inject). */
  config: LoraConfig;
  /** The same as adapter_config.json content (PEFT field names). */
  peftConfig: PeftAdapter['config'];
  /** Module names (ours) the adapter's config wraps, in tree order. */
  targets: string[];
  /** Module names (ours) the adapter's config saves in full (modules_to_save). */
  modulesToSave: string[];
  /** The prefix the adapter's model put in front of our names ('' or LeRobot's 'model.'). */
  theirPrefix: string;
  /**
   * True when the wrapped module set or modules_to_save differ from the LoRA layers now in `policy`
   * (then unload them and inject `config`). Same modules with other ranks is not a difference here:
   * the existing layers' fit check refuses it, naming the rank. False too when a tensor of the file
   * belongs to no module the adapter's config wraps here (an adapter for another model).
   */
  differsFromModel: boolean;
  /** Tensor keys renamed onto our layout (LeRobot prefix, legacy names, modules_to_save copies). */
  renamed: number;
}

/** Our module names a LoRA config could name: Linear layers, and LoraLinear wrappers (not their insides). */
function candidateModules(root: Module): Array<[string, Module]> {
  const out: Array<[string, Module]> = [];
  const wrapped: string[] = [];
  for (const [n, m] of namedModules(root)) {
    if (n === '' || wrapped.some((w) => n.startsWith(`${w}.`))) continue;
    if (m instanceof LoraLinear) wrapped.push(n);
    out.push([n, m]);
  }
  return out;
}

/**
 * Renames the adapter's tensors onto our layout (in place) and translates its adapter_config.json
 * onto our module names (also in place: `adapter.config` becomes the translated config, which is
 * what applyAdapter checks the layers against). `policy` may already carry our default LoRA layers;
 * `differsFromModel` says whether they must be unloaded and the adapter's own injected instead.
 */
export function planPi0Adapter(adapter: PeftAdapter, policy: Module): Pi0AdapterPlan {
  const theirPrefix = [...adapter.tensors.keys()].some((k) => k.startsWith(LEROBOT_PREFIX)) ? 'model.' : '';
  let renamed = remapPi0AdapterLayout(adapter);
  // PEFT's in-memory name of a modules_to_save copy (<module>.modules_to_save.<adapter>.<param>); on
  // disk PEFT writes <module>.<param>, which is what applyAdapter expects
  const next: PeftAdapter['tensors'] = new Map();
  for (const [k, t] of adapter.tensors) {
    const k2 = k.replace(/\.modules_to_save\.[^.]+\.(?=[^.]+$)/, '.');
    if (k2 !== k) renamed++;
    next.set(k2, t);
  }
  adapter.tensors = next;

  const { config: theirs, extra } = loraConfigFromPeft(adapter.config as Record<string, unknown>);
  const targets: string[] = [];
  const modulesToSave: string[] = [];
  const rankPattern: Record<string, number> = {};
  const alphaPattern: Record<string, number> = {};
  for (const [name, m] of candidateModules(policy)) {
    const theirName = theirPrefix + name;
    if (isModuleToSave(theirs.modulesToSave, theirName)) {
      modulesToSave.push(name);
      continue;
    }
    if (!(m instanceof Linear || m instanceof LoraLinear)) continue;
    if (!matchTarget(theirs, theirName).matched) continue;
    targets.push(name);
    const ra = rankAndAlphaFor(theirs, theirName);
    if (ra.r !== theirs.r) rankPattern[esc(name)] = ra.r;
    if (ra.alpha !== theirs.loraAlpha) alphaPattern[esc(name)] = ra.alpha;
  }
  const config: LoraConfig = {
    ...theirs,
    targetModules: targets.length > 0 ? `(?:${targets.map(esc).join('|')})` : theirs.targetModules,
    excludeModules: null,
    modulesToSave: modulesToSave.length > 0 ? modulesToSave : null,
    layersToTransform: null,
    layersPattern: null,
    rankPattern,
    alphaPattern,
  };
  const peftConfig = loraConfigToPeft(config, extra) as PeftAdapter['config'];
  adapter.config = peftConfig;

  const present = new Map(loraLayers(policy));
  const targetSet = new Set(targets);
  // only an adapter whose every tensor belongs to a module its own config wraps or saves in this
  // model takes the re-wrap path; one for another model keeps the fit check's "another model" refusal
  const belongs = (k: string): boolean => {
    if (!k.startsWith(PEFT_PREFIX)) return false;
    const rest = k.slice(PEFT_PREFIX.length);
    const lora = /^(.*)\.lora_[AB]\.[^.]+\.weight$/.exec(rest);
    if (lora) return targetSet.has(lora[1]!);
    return modulesToSave.some((m) => rest.startsWith(`${m}.`));
  };
  const ownTargets = [...adapter.tensors.keys()].every(belongs);
  const differsFromModel =
    ownTargets && (modulesToSave.length > 0 || present.size !== targets.length || targets.some((n) => !present.has(n)));
  return { config, peftConfig, targets, modulesToSave, theirPrefix, differsFromModel, renamed };
}
