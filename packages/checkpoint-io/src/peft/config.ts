// adapter_config.json: a typed view of PEFT's LoraConfig that keeps every field it does not know.
// No node: imports (runs in browsers); reading/writing the file is in config-fs.ts.
import { AdapterConfigError, PeftRuleError } from './errors.js';
import { checkRankRules, checkTargetRules, loraScalingOf, rankAndAlphaFor, rulesFromPeftJson } from './rules.js';
import { dumpPyJson, markFloats, parsePyJson } from './py-json.js';

/** PEFT's LoraConfig as saved in adapter_config.json. Unknown fields are kept on round trip. */
export interface PeftLoraConfig {
  peft_type: string;
  r: number;
  lora_alpha: number;
  target_modules?: string[] | string | null;
  lora_dropout?: number;
  bias?: 'none' | 'all' | 'lora_only';
  use_rslora?: boolean;
  use_dora?: boolean;
  fan_in_fan_out?: boolean;
  rank_pattern?: Record<string, number>;
  alpha_pattern?: Record<string, number>;
  modules_to_save?: string[] | null;
  exclude_modules?: string[] | string | null;
  layers_to_transform?: number[] | number | null;
  layers_pattern?: string[] | string | null;
  base_model_name_or_path?: string | null;
  task_type?: string | null;
  inference_mode?: boolean;
  peft_version?: string;
  [key: string]: unknown;
}

export const ADAPTER_CONFIG_NAME = 'adapter_config.json';
/** An adapter config is a few KB; anything above this is not one. */
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

/** Validates the fields LoRA needs; returns the config typed (same object). */
export function checkLoraConfig(raw: unknown, where: string): PeftLoraConfig {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
    throw new AdapterConfigError(where, `${where}: adapter config is not a JSON object`);
  const c = raw as Record<string, unknown>;
  const bad = (msg: string): never => {
    throw new AdapterConfigError(where, `${where}: ${msg}`);
  };
  if (c['peft_type'] !== 'LORA')
    bad(`peft_type is ${JSON.stringify(c['peft_type'])}; only LoRA adapters ("LORA") are supported`);
  if (typeof c['r'] !== 'number' || !Number.isInteger(c['r']) || c['r'] <= 0)
    bad(`r must be a positive integer, got ${JSON.stringify(c['r'])}`);
  if (typeof c['lora_alpha'] !== 'number' || !Number.isFinite(c['lora_alpha']))
    bad(`lora_alpha must be a number, got ${JSON.stringify(c['lora_alpha'])}`);
  // every rule field (target/exclude/modules_to_save/layers/rank+alpha patterns): PEFT's rulebook
  try {
    const rules = rulesFromPeftJson(c);
    checkTargetRules(rules);
    checkRankRules(rules);
  } catch (err) {
    if (err instanceof PeftRuleError) throw new AdapterConfigError(where, `${where}: ${err.message}`, { cause: err });
    throw err;
  }
  return c as PeftLoraConfig;
}

/** Parses and validates the text of an adapter_config.json; `where` names it in errors. */
export function parseAdapterConfig(text: string, where: string, dir = where): PeftLoraConfig {
  let raw: unknown;
  try {
    raw = parsePyJson(text);
  } catch (err) {
    throw new AdapterConfigError(dir, `${where} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
  return checkLoraConfig(raw, where);
}

/** Text PEFT's save_pretrained writes for a config: json.dumps(indent=2, sort_keys=True). */
export function serializeAdapterConfig(config: PeftLoraConfig): string {
  // lora_dropout is a float in PEFT; keep it one even when a JS caller wrote 0
  if (typeof config.lora_dropout === 'number') markFloats(config, [['lora_dropout']]);
  return dumpPyJson(config, { sortKeys: true, indent: 2 });
}

/** The rank PEFT gives `module` (relative path, e.g. model.layers.0.self_attn.q_proj). */
export function loraRank(config: PeftLoraConfig, module: string): number {
  return rankAndAlphaFor(rulesFromPeftJson(config), module).r;
}

/** lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora, honouring rank_pattern/alpha_pattern. */
export function loraScaling(config: PeftLoraConfig, module: string): number {
  const { r, alpha } = rankAndAlphaFor(rulesFromPeftJson(config), module);
  return loraScalingOf(alpha, r, config.use_rslora === true);
}
