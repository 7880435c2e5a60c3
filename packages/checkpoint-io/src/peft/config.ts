// adapter_config.json: a typed view of PEFT's LoraConfig that keeps every field it does not know.
// No node: imports (runs in browsers); reading/writing the file is in config-fs.ts.
import { AdapterConfigError } from './errors.js';
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
  const t = c['target_modules'];
  if (
    !(
      t === null ||
      t === undefined ||
      typeof t === 'string' ||
      (Array.isArray(t) && t.every((x) => typeof x === 'string'))
    )
  ) {
    bad('target_modules must be a list of module names, a regex string, or null');
  }
  for (const k of ['rank_pattern', 'alpha_pattern'] as const) {
    const p = c[k];
    if (p === undefined || p === null) continue;
    if (typeof p !== 'object' || Array.isArray(p) || !Object.values(p).every((v) => typeof v === 'number'))
      bad(`${k} must map module patterns to numbers`);
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

function patternKey(patterns: Record<string, number> | undefined | null, module: string): string | undefined {
  if (!patterns) return undefined;
  // PEFT's get_pattern_key: a pattern matches the module path or any dotted suffix of it (regex)
  for (const key of Object.keys(patterns)) {
    let re: RegExp;
    try {
      re = new RegExp(`^(?:.*\\.)?(?:${key})$`);
    } catch {
      if (module === key || module.endsWith(`.${key}`)) return key;
      continue;
    }
    if (re.test(module)) return key;
  }
  return undefined;
}

/** The rank PEFT gives `module` (relative path, e.g. model.layers.0.self_attn.q_proj). */
export function loraRank(config: PeftLoraConfig, module: string): number {
  const k = patternKey(config.rank_pattern, module);
  return k !== undefined ? config.rank_pattern![k]! : config.r;
}

/** lora_alpha / r, or lora_alpha / sqrt(r) with use_rslora, honouring rank_pattern/alpha_pattern. */
export function loraScaling(config: PeftLoraConfig, module: string): number {
  const r = loraRank(config, module);
  const k = patternKey(config.alpha_pattern, module);
  const alpha = k !== undefined ? config.alpha_pattern![k]! : config.lora_alpha;
  return config.use_rslora ? alpha / Math.sqrt(r) : alpha / r;
}
