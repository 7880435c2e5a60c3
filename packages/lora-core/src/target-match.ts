// Target matching: PEFT's check_target_module_exists (tuners_utils.py) and get_pattern_key
// (utils/other.py), in one small function each. Users get this wrong; it is tested heavily.
//
// Python regex → JS: PEFT's `re.fullmatch(p, key)` is `^(?:p)$` here and `re.match(rf"...", key)`
// is an anchored `^...`. Patterns use the common subset of Python and JS regex syntax.
import type { LoraConfig } from './config.js';

/** Why a module name matched or not. `key` is the target entry (or the regex) that matched. */
export type TargetMatch =
  | { matched: true; key: string }
  | { matched: false; reason: 'excluded' | 'modules_to_save' | 'no-target' | 'layer-index' };

type MatchConfig = Pick<
  LoraConfig,
  'targetModules' | 'excludeModules' | 'modulesToSave' | 'layersToTransform' | 'layersPattern'
>;

const fullmatch = (pattern: string, s: string): boolean => new RegExp(`^(?:${pattern})$`).test(s);

/** PEFT's list rule: the name equals an entry or ends with `'.' + entry`. */
function listMatch(keys: readonly string[], name: string): string | null {
  for (const k of keys) if (name === k || name.endsWith(`.${k}`)) return k;
  return null;
}

/**
 * Does module `name` (its dotted path from the root) get LoRA under `config`? Same order of rules
 * as PEFT: exclude_modules first, then modules_to_save (never adapted), then target_modules (string:
 * full regex match; list: exact name or dotted suffix), then layers_to_transform / layers_pattern.
 * The root (empty name) never matches.
 */
export function matchTarget(config: MatchConfig, name: string): TargetMatch {
  if (name === '') return { matched: false, reason: 'no-target' };
  const ex = config.excludeModules;
  if (
    ex !== null &&
    ex !== undefined &&
    (typeof ex === 'string' ? fullmatch(ex, name) : listMatch(ex, name) !== null)
  ) {
    return { matched: false, reason: 'excluded' };
  }
  const mts = config.modulesToSave;
  if (mts && mts.some((m) => new RegExp(`^(?:^|.*\\.)${m}(?:$|\\..*)`).test(name))) {
    return { matched: false, reason: 'modules_to_save' };
  }
  const tm = config.targetModules;
  if (typeof tm === 'string') {
    return fullmatch(tm, name) ? { matched: true, key: tm } : { matched: false, reason: 'no-target' };
  }
  if (tm.includes(name)) return { matched: true, key: name }; // exact name: layers_to_transform does not apply (PEFT)
  const key = listMatch(tm, name);
  if (key === null) return { matched: false, reason: 'no-target' };

  const li = config.layersToTransform;
  const usingLayers = li !== null && li !== undefined && (Array.isArray(li) ? li.length !== 0 : true);
  if (!usingLayers) return { matched: true, key };
  let m: RegExpExecArray | null = null;
  const lp = config.layersPattern;
  if (lp === null || lp === undefined || lp.length === 0) {
    m = /^.*\.[^.]*\.(\d+)\./.exec(name);
  } else {
    for (const p of typeof lp === 'string' ? [lp] : lp) {
      m = new RegExp(`^.*\\.${p}\\.(\\d+)\\.`).exec(name);
      if (m !== null) break;
    }
  }
  if (m === null) return { matched: false, reason: 'layer-index' };
  const idx = Number(m[1]);
  const ok = typeof li === 'number' ? idx === li : li.includes(idx);
  return ok ? { matched: true, key } : { matched: false, reason: 'layer-index' };
}

/**
 * PEFT's get_pattern_key: the first key of a rank_pattern / alpha_pattern (in insertion order)
 * such that `^(.*\.)?(key)$` matches the module name, or null.
 */
export function patternKey(patternKeys: Iterable<string>, name: string): string | null {
  for (const k of patternKeys) if (new RegExp(`^(.*\\.)?(${k})$`).test(name)) return k;
  return null;
}

/** Rank and alpha for a module, honouring rank_pattern / alpha_pattern as PEFT does. */
export function rankAndAlphaFor(
  config: Pick<LoraConfig, 'r' | 'loraAlpha' | 'rankPattern' | 'alphaPattern'>,
  name: string,
): { r: number; alpha: number } {
  const rk = patternKey(Object.keys(config.rankPattern), name);
  const ak = patternKey(Object.keys(config.alphaPattern), name);
  return {
    r: rk === null ? config.r : config.rankPattern[rk]!,
    alpha: ak === null ? config.loraAlpha : config.alphaPattern[ak]!,
  };
}
