// LoraConfig: PEFT's LoraConfig fields and rules (peft/tuners/lora/config.py), in camelCase, with
// lossless parsing from and emission to PEFT's adapter_config.json (unknown fields are kept).
import {
  AdapterConfigError,
  checkLoraConfig,
  checkRankRules,
  checkTargetRules,
  loraScalingOf,
  PeftRuleError,
} from '@vla-lora/checkpoint-io';
import { LoraConfigError } from './errors.js';

/**
 * How A and B start. `true`: PEFT's default (A Kaiming-uniform with a = sqrt(5), i.e. U(±1/sqrt(in)),
 * B = 0). `'gaussian'`: PEFT's gaussian (A ~ N(0, (1/r)^2), B = 0). `false`: PEFT's debugging init
 * (A and B both keep nn.Linear's default init, so the adapter is not a no-op).
 * `'openpi'`: openpi's LoRAConfig default, A and B both ~ N(0, 0.01^2) — not a PEFT value; emitted
 * to adapter_config.json as `false` (random A and B), which is what PEFT would understand.
 */
export type LoraInit = boolean | 'gaussian' | 'openpi';

export interface LoraConfig {
  /** Rank (PEFT `r`). */
  r: number;
  /** PEFT `lora_alpha`. */
  loraAlpha: number;
  /**
   * PEFT `target_modules`: a list (a module matches when its dotted name equals an entry or ends
   * with `'.' + entry`), or a string (a regex that must match the WHOLE dotted name, Python
   * `re.fullmatch`), or `'all-linear'` (every Linear except the output head, see `injectLora`).
   */
  targetModules: string[] | string;
  /** PEFT `exclude_modules`: same matching rules as targetModules; wins over it. */
  excludeModules: string[] | string | null;
  /** PEFT `lora_dropout`: dropout on the LoRA branch input, training mode only. */
  loraDropout: number;
  /** PEFT `use_rslora`: scaling alpha / sqrt(r) instead of alpha / r. */
  useRslora: boolean;
  /** PEFT `bias`. Only 'none' is supported (biases stay frozen). */
  bias: 'none';
  /** PEFT `modules_to_save`: modules trained fully and saved with the adapter; never LoRA targets. */
  modulesToSave: string[] | null;
  /** PEFT `init_lora_weights` (+ our `'openpi'`). */
  initLoraWeights: LoraInit;
  /** PEFT `rank_pattern`: key (regex) matched against the END of the module name, value = rank. */
  rankPattern: Record<string, number>;
  /** PEFT `alpha_pattern`: as rankPattern, value = alpha. */
  alphaPattern: Record<string, number>;
  /** PEFT `layers_to_transform` (list targets only). */
  layersToTransform: number[] | number | null;
  /** PEFT `layers_pattern` (list targets only). */
  layersPattern: string[] | string | null;
  /** Seed for A/B init and dropout masks (ours; not saved by PEFT). Undefined: random. */
  seed?: number;
}

export type LoraConfigInput = Partial<LoraConfig> & Pick<LoraConfig, 'targetModules'>;

/** PEFT's defaults (r 8, alpha 8, dropout 0, bias none, init True). */
export const LORA_DEFAULTS: Omit<LoraConfig, 'targetModules'> = {
  r: 8,
  loraAlpha: 8,
  excludeModules: null,
  loraDropout: 0,
  useRslora: false,
  bias: 'none',
  modulesToSave: null,
  initLoraWeights: true,
  rankPattern: {},
  alphaPattern: {},
  layersToTransform: null,
  layersPattern: null,
};

function isPosInt(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0;
}

/** Fills PEFT's defaults and validates as PEFT's `__post_init__` does (plus rank/dropout sanity). */
export function makeLoraConfig(input: LoraConfigInput): LoraConfig {
  const c: LoraConfig = { ...LORA_DEFAULTS, ...input };
  if (!isPosInt(c.r)) throw new LoraConfigError(`r must be a positive integer, got ${String(c.r)}`);
  if (typeof c.loraAlpha !== 'number' || !Number.isFinite(c.loraAlpha))
    throw new LoraConfigError(`lora_alpha must be a finite number, got ${String(c.loraAlpha)}`);
  if (!(c.loraDropout >= 0 && c.loraDropout < 1))
    throw new LoraConfigError(`lora_dropout must be in [0, 1), got ${c.loraDropout}`);
  if ((c.bias as string) !== 'none') {
    throw new LoraConfigError(
      `bias='${String(c.bias)}' is not supported; use bias='none' and make biases trainable with a freeze-policy rule`,
    );
  }
  if (c.targetModules === null || c.targetModules === undefined)
    throw new LoraConfigError('target_modules must be a list of names or a regex string');
  // target/exclude/modules_to_save/layers/rank+alpha patterns: checkpoint-io's PEFT rulebook
  try {
    checkTargetRules(c);
    checkRankRules(c);
  } catch (e) {
    if (e instanceof PeftRuleError) throw new LoraConfigError(e.message, { cause: e });
    throw e;
  }
  const init = c.initLoraWeights;
  if (!(init === true || init === false || init === 'gaussian' || init === 'openpi')) {
    throw new LoraConfigError(
      `init_lora_weights=${JSON.stringify(init)} is not supported; use true, false, 'gaussian' or 'openpi'`,
    );
  }
  return c;
}

/** LoRA scaling: alpha / r, or alpha / sqrt(r) with rsLoRA. */
export function loraScaling(alpha: number, r: number, useRslora: boolean): number {
  return loraScalingOf(alpha, r, useRslora);
}

/** A PEFT adapter_config.json as a plain JSON object. */
export type PeftConfigJson = Record<string, unknown>;

/**
 * Parses PEFT's adapter_config.json (already JSON-decoded). Refuses what we would compute wrongly
 * (DoRA, lora_bias, fan_in_fan_out, non-LoRA peft_type, exotic inits) with a message naming the field.
 * Returns the config plus every field we do not model, to be written back unchanged.
 */
export function loraConfigFromPeft(json: PeftConfigJson): { config: LoraConfig; extra: PeftConfigJson } {
  const known = new Set([
    'r',
    'lora_alpha',
    'target_modules',
    'exclude_modules',
    'lora_dropout',
    'use_rslora',
    'bias',
    'modules_to_save',
    'init_lora_weights',
    'rank_pattern',
    'alpha_pattern',
    'layers_to_transform',
    'layers_pattern',
  ]);
  const pt = json['peft_type'];
  if (pt !== undefined && pt !== 'LORA')
    throw new LoraConfigError(`peft_type is ${JSON.stringify(pt)}; only LORA adapters are supported`);
  // the fields every reader checks (r, lora_alpha, target/exclude/layers/patterns): checkpoint-io's rulebook
  try {
    checkLoraConfig(
      { r: LORA_DEFAULTS.r, lora_alpha: LORA_DEFAULTS.loraAlpha, ...json, peft_type: 'LORA' },
      'adapter_config.json',
    );
  } catch (e) {
    if (e instanceof AdapterConfigError) throw new LoraConfigError(e.message, { cause: e.cause ?? e });
    throw e;
  }
  const refuse = (field: string, ok: (v: unknown) => boolean, why: string): void => {
    const v = json[field];
    if (v !== undefined && v !== null && !ok(v))
      throw new LoraConfigError(`adapter_config.json ${field}=${JSON.stringify(v)}: ${why}`);
  };
  refuse('use_dora', (v) => v === false, 'DoRA is not supported; the forward would differ from PEFT');
  refuse('lora_bias', (v) => v === false, 'lora_bias (a bias on lora_B) is not supported');
  refuse(
    'fan_in_fan_out',
    (v) => v === false,
    'fan_in_fan_out (Conv1D layouts) is not supported; weights must be nn.Linear [out, in]',
  );
  refuse('use_qalora', (v) => v === false, 'QALoRA is not supported');
  refuse('layer_replication', (v) => Array.isArray(v) && v.length === 0, 'layer_replication is not supported');
  refuse(
    'target_parameters',
    (v) => Array.isArray(v) && v.length === 0,
    'target_parameters (LoRA on raw parameters) is not supported',
  );
  refuse('trainable_token_indices', () => false, 'trainable_token_indices is not supported');

  const tm = json['target_modules'];
  if (tm === undefined || tm === null)
    throw new LoraConfigError(
      'adapter_config.json has no target_modules; PEFT architecture defaults are not supported, name the targets',
    );
  if (!(typeof tm === 'string' || (Array.isArray(tm) && tm.every((x) => typeof x === 'string')))) {
    throw new LoraConfigError(`target_modules must be a string or a list of strings, got ${JSON.stringify(tm)}`);
  }
  const em = json['exclude_modules'];
  const init = json['init_lora_weights'] ?? true;
  if (!(init === true || init === false || init === 'gaussian')) {
    // Only the start of training depends on it: loading an adapter overwrites A and B.
    throw new LoraConfigError(`init_lora_weights=${JSON.stringify(init)} is not supported (true, false, 'gaussian')`);
  }
  const num = (k: string, d: number): number => {
    const v = json[k];
    if (v === undefined || v === null) return d;
    if (typeof v !== 'number') throw new LoraConfigError(`${k} must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const record = (k: string): Record<string, number> => {
    const v = json[k];
    if (v === undefined || v === null) return {};
    if (typeof v !== 'object' || Array.isArray(v))
      throw new LoraConfigError(`${k} must be an object, got ${JSON.stringify(v)}`);
    return { ...(v as Record<string, number>) };
  };
  const config = makeLoraConfig({
    r: num('r', LORA_DEFAULTS.r),
    loraAlpha: num('lora_alpha', LORA_DEFAULTS.loraAlpha),
    targetModules: Array.isArray(tm) ? [...(tm as string[])] : (tm as string),
    excludeModules: em === undefined || em === null ? null : Array.isArray(em) ? [...(em as string[])] : (em as string),
    loraDropout: num('lora_dropout', 0),
    useRslora: json['use_rslora'] === true,
    bias: (json['bias'] ?? 'none') as 'none',
    modulesToSave: Array.isArray(json['modules_to_save']) ? [...(json['modules_to_save'] as string[])] : null,
    initLoraWeights: init as LoraInit,
    rankPattern: record('rank_pattern'),
    alphaPattern: record('alpha_pattern'),
    layersToTransform: (json['layers_to_transform'] ?? null) as number[] | number | null,
    layersPattern: (json['layers_pattern'] ?? null) as string[] | string | null,
  });
  const extra: PeftConfigJson = {};
  for (const [k, v] of Object.entries(json)) if (!known.has(k)) extra[k] = v;
  return { config, extra };
}

/**
 * Emits PEFT's adapter_config.json fields. `extra` (from `loraConfigFromPeft`) is merged first so
 * round-trips keep unknown fields; missing PEFT fields get PEFT's defaults so PEFT loads the file.
 */
export function loraConfigToPeft(config: LoraConfig, extra: PeftConfigJson = {}): PeftConfigJson {
  const base: PeftConfigJson = {
    alpha_pattern: {},
    auto_mapping: null,
    base_model_name_or_path: null,
    bias: 'none',
    exclude_modules: null,
    fan_in_fan_out: false,
    inference_mode: true,
    init_lora_weights: true,
    layer_replication: null,
    layers_pattern: null,
    layers_to_transform: null,
    loftq_config: {},
    lora_alpha: 8,
    lora_bias: false,
    lora_dropout: 0,
    megatron_config: null,
    megatron_core: 'megatron.core',
    modules_to_save: null,
    peft_type: 'LORA',
    r: 8,
    rank_pattern: {},
    revision: null,
    target_modules: null,
    task_type: null,
    use_dora: false,
    use_rslora: false,
    ...extra,
  };
  const out: PeftConfigJson = {
    ...base,
    r: config.r,
    lora_alpha: config.loraAlpha,
    target_modules: Array.isArray(config.targetModules) ? [...config.targetModules] : config.targetModules,
    exclude_modules:
      config.excludeModules === null
        ? null
        : Array.isArray(config.excludeModules)
          ? [...config.excludeModules]
          : config.excludeModules,
    lora_dropout: config.loraDropout,
    use_rslora: config.useRslora,
    bias: config.bias,
    modules_to_save: config.modulesToSave === null ? null : [...config.modulesToSave],
    init_lora_weights: config.initLoraWeights === 'openpi' ? false : config.initLoraWeights,
    rank_pattern: { ...config.rankPattern },
    alpha_pattern: { ...config.alphaPattern },
    layers_to_transform: config.layersToTransform,
    layers_pattern: config.layersPattern,
  };
  // PEFT writes keys sorted (json.dumps(sort_keys=True)); do the same so files diff cleanly.
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
