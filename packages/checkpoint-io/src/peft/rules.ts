// The PEFT rulebook: which modules a LoRA config targets, and with which rank and alpha — PEFT's
// check_target_module_exists (tuners_utils.py), LoraConfig.__post_init__'s checks (lora/config.py),
// _maybe_include_all_linear_layers' name rule and get_pattern_key (utils/other.py). The verifier,
// lora-core's injector and merge, the trainer and serve all decide with these functions.
//
// Every regex (target_modules string, exclude_modules string, layers_pattern, modules_to_save,
// rank/alpha_pattern keys) is built as the Python pattern text PEFT builds (same f-strings) and run
// through translatePyRegex, so the JS match is Python's, or a PeftRegexError says why not.
import { PeftRegexError, PeftRuleError } from './errors.js';
import { checkPyRegex, pyFullmatch, pyMatch } from './py-regex.js';

/** The target-selection fields of a LoRA config (PEFT's names in camelCase). */
export interface TargetRules {
  /** List: exact name or dotted suffix. String: Python re.fullmatch, or 'all-linear' (any case). null: architecture default. */
  targetModules: readonly string[] | string | null;
  /** Same rules as targetModules (list or full regex); checked first, wins. */
  excludeModules?: readonly string[] | string | null;
  /** Modules trained in full and saved with the adapter; never LoRA targets. */
  modulesToSave?: readonly string[] | null;
  /** Layer indices that get LoRA (list targets only). */
  layersToTransform?: readonly number[] | number | null;
  /** Name(s) of the layer list before the index, e.g. "layers" or "h" (list targets only). */
  layersPattern?: readonly string[] | string | null;
}

/** Rank / alpha fields (PEFT's r, lora_alpha, rank_pattern, alpha_pattern). */
export interface RankRules {
  r: number;
  loraAlpha: number;
  rankPattern?: Readonly<Record<string, number>> | null;
  alphaPattern?: Readonly<Record<string, number>> | null;
}

/** Why a module name matched or not. `key` is the target entry (or the regex) that matched. */
export type TargetMatch =
  | { matched: true; key: string }
  | { matched: false; reason: 'excluded' | 'modules_to_save' | 'no-target' | 'layer-index' };

/** PEFT's INCLUDE_LINEAR_LAYERS_SHORTHAND. */
export const ALL_LINEAR = 'all-linear';

/** PEFT compares `target_modules.lower() == "all-linear"`. */
export function isAllLinear(t: TargetRules['targetModules']): t is string {
  return typeof t === 'string' && t.toLowerCase() === ALL_LINEAR;
}

const pyTruthy = (v: unknown): boolean =>
  !(v === null || v === undefined || v === 0 || v === '' || v === false || (Array.isArray(v) && v.length === 0));

/** PEFT's list rule: the name equals an entry, or ends with '.' + entry. Returns the entry or null. */
export function listMatch(keys: readonly string[], name: string): string | null {
  if (keys.includes(name)) return name;
  for (const k of keys) if (name.endsWith(`.${k}`)) return k;
  return null;
}

const modulesToSavePattern = (m: string): string => String.raw`(^|.*\.)` + m + String.raw`($|\..*)`;
const layerPattern = (p: string | null): string =>
  p === null ? String.raw`.*\.[^.]*\.(\d+)\.` : String.raw`.*\.` + p + String.raw`\.(\d+)\.`;
const patternKeyPattern = (k: string): string => String.raw`(.*\.)?(` + k + ')$';

/** PEFT's modules_to_save rule: `re.match(rf"(^|.*\.){m}($|\..*)", name)` for some entry m. */
export function isModuleToSave(modulesToSave: readonly string[] | null | undefined, name: string): boolean {
  return (
    !!modulesToSave && modulesToSave.some((m) => pyMatch(modulesToSavePattern(m), name, 'modules_to_save') !== null)
  );
}

/** PEFT's exclude_modules rule (list: exact or dotted suffix; string: re.fullmatch). Falsy values exclude nothing. */
export function isExcluded(excludeModules: TargetRules['excludeModules'], name: string): boolean {
  const ex = excludeModules;
  if (ex === null || ex === undefined || ex.length === 0) return false;
  return typeof ex === 'string' ? pyFullmatch(ex, name, 'exclude_modules') : listMatch(ex, name) !== null;
}

/**
 * Validates the target fields as PEFT's LoraConfig.__post_init__ does, plus every regex (a PeftRegexError
 * names the field). Types are checked so that a hand-edited adapter_config.json fails here, not later.
 */
export function checkTargetRules(rules: TargetRules): void {
  const bad = (field: string, msg: string): never => {
    throw new PeftRuleError(field, `${field}: ${msg}`);
  };
  const strList = (field: string, v: unknown): void => {
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x !== ''))
      bad(field, `must be a regex string or a list of non-empty module names, got ${JSON.stringify(v)}`);
  };
  const t = rules.targetModules;
  if (t !== null && t !== undefined) {
    if (typeof t === 'string') {
      if (t === '') bad('target_modules', 'is an empty string; name the modules to adapt, e.g. ["q_proj", "v_proj"]');
      if (!isAllLinear(t)) checkPyRegex(t, 'target_modules');
    } else {
      strList('target_modules', t);
      if (t.length === 0)
        bad('target_modules', 'is an empty list; name the modules to adapt, e.g. ["q_proj", "v_proj"]');
    }
  }
  const ex = rules.excludeModules;
  if (ex !== null && ex !== undefined) {
    if (typeof ex === 'string') checkPyRegex(ex, 'exclude_modules');
    else strList('exclude_modules', ex);
  }
  const mts = rules.modulesToSave;
  if (mts !== null && mts !== undefined) {
    strList('modules_to_save', mts);
    for (const m of mts) checkPyRegex(modulesToSavePattern(m), 'modules_to_save');
  }
  const li = rules.layersToTransform;
  if (li !== null && li !== undefined) {
    const ok = (x: unknown): boolean => typeof x === 'number' && Number.isInteger(x);
    if (!(ok(li) || (Array.isArray(li) && li.every(ok))))
      bad('layers_to_transform', `must be a layer index or a list of them, got ${JSON.stringify(li)}`);
  }
  const lp = rules.layersPattern;
  if (lp !== null && lp !== undefined) {
    if (typeof lp !== 'string') strList('layers_pattern', lp);
    for (const p of typeof lp === 'string' ? [lp] : lp) checkPyRegex(layerPattern(p), 'layers_pattern');
  }
  // LoraConfig.__post_init__, same conditions and messages
  if (typeof t === 'string' && li !== null && li !== undefined)
    bad('layers_to_transform', '`layers_to_transform` cannot be used when `target_modules` is a str.');
  if (typeof t === 'string' && lp !== null && lp !== undefined)
    bad('layers_pattern', '`layers_pattern` cannot be used when `target_modules` is a str.');
  if (pyTruthy(lp) && !pyTruthy(li))
    bad('layers_pattern', 'When `layers_pattern` is specified, `layers_to_transform` must also be specified.');
}

/** Validates rank_pattern / alpha_pattern keys (as PEFT's regex) and values. */
export function checkRankRules(rules: RankRules): void {
  const posInt = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v > 0;
  if (!posInt(rules.r)) throw new PeftRuleError('r', `r must be a positive integer, got ${JSON.stringify(rules.r)}`);
  if (typeof rules.loraAlpha !== 'number' || !Number.isFinite(rules.loraAlpha))
    throw new PeftRuleError('lora_alpha', `lora_alpha must be a finite number, got ${JSON.stringify(rules.loraAlpha)}`);
  for (const [field, p, ok] of [
    ['rank_pattern', rules.rankPattern, posInt],
    ['alpha_pattern', rules.alphaPattern, (v: unknown) => typeof v === 'number' && Number.isFinite(v)],
  ] as const) {
    if (p === null || p === undefined) continue;
    if (typeof p !== 'object' || Array.isArray(p))
      throw new PeftRuleError(field, `${field} must map module patterns to numbers, got ${JSON.stringify(p)}`);
    for (const [k, v] of Object.entries(p)) {
      checkPyRegex(patternKeyPattern(k), `${field} key`);
      if (!ok(v))
        throw new PeftRuleError(
          field,
          `${field}[${JSON.stringify(k)}] must be a ${field === 'rank_pattern' ? 'positive integer' : 'number'}, got ${JSON.stringify(v)}`,
        );
    }
  }
}

/**
 * Does module `name` (its dotted path from the model root, without PEFT's "base_model.model.")
 * get LoRA? PEFT's order: exclude_modules, then modules_to_save, then target_modules (string: full
 * regex match; list: exact name — no layer filter — or dotted suffix), then layers_to_transform /
 * layers_pattern. 'all-linear' must be expanded first (`expandAllLinear`). The root never matches.
 */
export function matchTarget(rules: TargetRules, name: string): TargetMatch {
  if (name === '') return { matched: false, reason: 'no-target' };
  if (isExcluded(rules.excludeModules, name)) return { matched: false, reason: 'excluded' };
  if (isModuleToSave(rules.modulesToSave, name)) return { matched: false, reason: 'modules_to_save' };
  const tm = rules.targetModules;
  if (tm === null || tm === undefined)
    throw new PeftRuleError(
      'target_modules',
      'target_modules is null (PEFT fills it from its per-architecture table); name the target modules explicitly',
    );
  if (typeof tm === 'string') {
    if (isAllLinear(tm))
      throw new PeftRuleError(
        'target_modules',
        "target_modules 'all-linear' must be expanded to the model's Linear module names first (expandAllLinear)",
      );
    return pyFullmatch(tm, name, 'target_modules')
      ? { matched: true, key: tm }
      : { matched: false, reason: 'no-target' };
  }
  if (tm.includes(name)) return { matched: true, key: name };
  const key = listMatch(tm, name);
  if (key === null) return { matched: false, reason: 'no-target' };
  const li = rules.layersToTransform;
  const usingLayers = li !== null && li !== undefined && (Array.isArray(li) ? li.length !== 0 : true);
  if (!usingLayers) return { matched: true, key };
  let m: RegExpExecArray | null = null;
  const lp = rules.layersPattern;
  if (lp === null || lp === undefined || lp.length === 0) {
    m = pyMatch(layerPattern(null), name, 'layers_pattern');
  } else {
    for (const p of typeof lp === 'string' ? [lp] : lp) {
      m = pyMatch(layerPattern(p), name, 'layers_pattern');
      if (m !== null) break;
    }
  }
  if (m === null) return { matched: false, reason: 'layer-index' };
  // PEFT reads group(1) — the layers_pattern's own first group when it has one
  const g = m[1];
  if (g === undefined || !/^\d+$/.test(g))
    throw new PeftRegexError(
      'layers_pattern',
      String(lp),
      `its first group captured ${JSON.stringify(g ?? null)} in ${JSON.stringify(name)}, not the layer index (PEFT's int(group(1)) fails); use (?:…) for groups in layers_pattern`,
    );
  const idx = Number(g);
  const ok = typeof li === 'number' ? idx === li : (li as readonly number[]).includes(idx);
  return ok ? { matched: true, key } : { matched: false, reason: 'layer-index' };
}

/**
 * The target entries (or the regex) that name `name` before exclusions and layer filters — to find
 * entries that match no module at all (a typo). 'all-linear' must be expanded first.
 */
export function targetEntriesNaming(rules: TargetRules, name: string): string[] {
  const tm = rules.targetModules;
  if (tm === null || tm === undefined || name === '') return [];
  if (typeof tm === 'string') return !isAllLinear(tm) && pyFullmatch(tm, name, 'target_modules') ? [tm] : [];
  return tm.filter((k) => name === k || name.endsWith(`.${k}`));
}

/**
 * PEFT's _maybe_include_all_linear_layers: 'all-linear' becomes the list of Linear module names
 * (minus the output embedding and anything inside a LoRA layer — the caller passes them excluded).
 * Other rules are returned unchanged.
 */
export function expandAllLinear<T extends TargetRules>(rules: T, linearNames: Iterable<string>): T {
  if (!isAllLinear(rules.targetModules)) return rules;
  return { ...rules, targetModules: [...new Set(linearNames)] };
}

/**
 * PEFT's get_pattern_key: the first key (insertion order) with `re.match(rf"(.*\.)?({key})$", name)`,
 * or null.
 */
export function patternKey(patternKeys: Iterable<string>, name: string, field = 'rank_pattern key'): string | null {
  for (const k of patternKeys) if (pyMatch(patternKeyPattern(k), name, field) !== null) return k;
  return null;
}

/** Rank and alpha PEFT gives module `name` (rank_pattern / alpha_pattern, else r / lora_alpha). */
export function rankAndAlphaFor(rules: RankRules, name: string): { r: number; alpha: number } {
  const rp = rules.rankPattern ?? {};
  const ap = rules.alphaPattern ?? {};
  const rk = patternKey(Object.keys(rp), name, 'rank_pattern key');
  const ak = patternKey(Object.keys(ap), name, 'alpha_pattern key');
  return { r: rk === null ? rules.r : rp[rk]!, alpha: ak === null ? rules.loraAlpha : ap[ak]! };
}

/** LoRA scaling: alpha / r, or alpha / sqrt(r) with rsLoRA (PEFT's LoraLayer.update_layer). */
export function loraScalingOf(alpha: number, r: number, useRslora: boolean): number {
  return useRslora ? alpha / Math.sqrt(r) : alpha / r;
}

/** The rule fields of a PEFT adapter_config.json (snake_case) as TargetRules & RankRules. */
export function rulesFromPeftJson(
  c: Readonly<Record<string, unknown>>,
): TargetRules & RankRules & { useRslora: boolean } {
  const orNull = <T>(v: unknown): T | null => (v === undefined || v === null ? null : (v as T));
  return {
    targetModules: orNull<string[] | string>(c['target_modules']),
    excludeModules: orNull<string[] | string>(c['exclude_modules']),
    modulesToSave: orNull<string[]>(c['modules_to_save']),
    layersToTransform: orNull<number[] | number>(c['layers_to_transform']),
    layersPattern: orNull<string[] | string>(c['layers_pattern']),
    r: c['r'] as number,
    loraAlpha: c['lora_alpha'] as number,
    rankPattern: orNull<Record<string, number>>(c['rank_pattern']),
    alphaPattern: orNull<Record<string, number>>(c['alpha_pattern']),
    useRslora: c['use_rslora'] === true,
  };
}
