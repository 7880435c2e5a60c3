// injectLora: walk a module tree, wrap every matching Linear in a LoraLinear (PEFT's
// inject_adapter), and report what happened. Refuses to succeed silently: a target entry that
// matched no module, or nothing wrapped at all, throws TargetNotFoundError.
import { namedModules, namedParameters, replaceModule, type Module } from './module.js';
import { Linear } from './linear.js';
import { LoraLinear } from './lora-linear.js';
import { makeLoraConfig, loraScaling, type LoraConfig, type LoraConfigInput } from './config.js';
import {
  expandAllLinear,
  isAllLinear,
  isExcluded,
  isModuleToSave,
  matchTarget,
  rankAndAlphaFor,
  targetEntriesNaming,
} from './target-match.js';
import { LoraConfigError, TargetNotFoundError, UnsupportedTargetError } from './errors.js';

export interface InjectOptions {
  /** PEFT adapter name (the `<adapter>` in `lora_A.<adapter>.weight`). Default 'default'. */
  adapterName?: string;
  /**
   * PEFT's mark_only_adapters_as_trainable: after wrapping, every parameter that is not a LoRA A/B
   * and not under modules_to_save is frozen (and modules_to_save are made trainable). Default true.
   */
  freezeNonLora?: boolean;
  /** For target_modules 'all-linear': module names (last segment) treated as the output head and skipped. Default ['lm_head']. */
  outputLayerNames?: string[];
}

export interface WrappedModule {
  name: string;
  /** The target entry (or regex) that selected it. */
  matchedBy: string;
  r: number;
  alpha: number;
  scaling: number;
  inFeatures: number;
  outFeatures: number;
}

export interface InjectReport {
  adapterName: string;
  /** Every wrapped module, in tree order. */
  wrapped: WrappedModule[];
  count: number;
  /** For list targets: target entry → the module names it wrapped. */
  byTarget: Record<string, string[]>;
  /** Modules a target matched but exclude_modules / modules_to_save / layers_to_transform kept out. */
  skipped: Array<{ name: string; reason: string }>;
  /** exclude_modules entries (or the regex) that matched no module at all — probably a typo (PEFT warns). */
  unmatchedExcludes: string[];
  /** LoRA parameters added (sum of r*(in+out)). */
  loraParameters: number;
  /** After freezing: trainable / total parameter counts (elements), for the PEFT-style line. */
  trainableParameters: number;
  totalParameters: number;
}

function mixSeed(seed: number, i: number): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x27d4eb2d) + Math.imul(i + 1, 0x165667b1)) >>> 0;
}

/** Paths of LoraLinear modules and of everything inside them. */
function loraPaths(root: Module): { layers: Set<string>; inside: (name: string) => boolean } {
  const layers = new Set<string>();
  for (const [n, m] of namedModules(root)) if (m instanceof LoraLinear) layers.add(n);
  const inside = (name: string): boolean => {
    for (const l of layers) if (name.startsWith(l === '' ? '' : `${l}.`) && name !== l) return true;
    return false;
  };
  return { layers, inside };
}

/**
 * Wraps every module whose dotted name matches `config` (PEFT's rules, see `matchTarget`) in a
 * LoraLinear. Validates everything before changing the tree: on error nothing is wrapped.
 */
export function injectLora(
  root: Module,
  configInput: LoraConfig | LoraConfigInput,
  opts: InjectOptions = {},
): InjectReport {
  const config = makeLoraConfig(configInput);
  const adapterName = opts.adapterName ?? 'default';
  const { inside } = loraPaths(root);
  const modules = namedModules(root).filter(([n]) => n !== '' && !inside(n));

  let matchCfg: LoraConfig = config;
  if (isAllLinear(config.targetModules)) {
    const heads = new Set(opts.outputLayerNames ?? ['lm_head']);
    const names = modules
      .filter(([n, m]) => m instanceof Linear && !heads.has(n.slice(n.lastIndexOf('.') + 1)))
      .map(([n]) => n);
    if (names.length === 0)
      throw new TargetNotFoundError("target_modules='all-linear' found no Linear module (besides the output head)", [
        'all-linear',
      ]);
    matchCfg = expandAllLinear(config, names); // PEFT's _maybe_include_all_linear_layers
  }

  const plan: Array<{ name: string; target: Linear; matchedBy: string }> = [];
  const skipped: InjectReport['skipped'] = [];
  const hits = new Map<string, number>();
  const tm = matchCfg.targetModules;
  const keys = typeof tm === 'string' ? [tm] : tm;
  for (const k of keys) hits.set(k, 0);
  for (const [name, mod] of modules) {
    // Which target entries name this module at all (before exclusions)? Used for "matched nothing".
    for (const k of targetEntriesNaming(matchCfg, name)) hits.set(k, hits.get(k)! + 1);
    const m = matchTarget(matchCfg, name);
    if (!m.matched) {
      if (m.reason !== 'no-target') skipped.push({ name, reason: m.reason });
      continue;
    }
    if (mod instanceof LoraLinear) {
      throw new LoraConfigError(
        `'${name}' already has a LoRA adapter ('${mod.adapterName}'); unload it first (only one adapter per layer is supported)`,
      );
    }
    if (!(mod instanceof Linear)) {
      throw new UnsupportedTargetError(
        `Target module '${name}' (${mod.constructor.name}) is not supported: only Linear layers can get LoRA. ` +
          `Target its Linear children instead (e.g. '${name}.<proj>'), or use a more specific target name.`,
      );
    }
    plan.push({ name, target: mod, matchedBy: m.key });
  }

  const shown = (a: string[]): string => a.map((s) => JSON.stringify(s)).join(', ');
  const unmatched = [...hits].filter(([, n]) => n === 0).map(([k]) => k);
  if (plan.length === 0) {
    const why =
      skipped.length > 0
        ? ` (${skipped.length} matching module(s) were excluded: ${skipped
            .slice(0, 5)
            .map((s) => `${s.name} [${s.reason}]`)
            .join(', ')})`
        : '';
    throw new TargetNotFoundError(
      `No modules were targeted for adaptation: target_modules ${shown(keys)} matched no Linear in the model${why}. ` +
        `Module names look like ${shown(modules.slice(0, 4).map(([n]) => n))}; list targets match a full name or a dotted suffix, a string target must match the whole name (re.fullmatch).`,
      unmatched.length > 0 ? unmatched : keys,
    );
  }
  if (unmatched.length > 0 && typeof config.targetModules !== 'string') {
    throw new TargetNotFoundError(
      `Target module(s) ${shown(unmatched)} matched no module in the model (the others matched ${plan.length}); ` +
        `fix or remove them — a misspelt target silently trains nothing there.`,
      unmatched,
    );
  }

  const wrapped: WrappedModule[] = [];
  const byTarget: Record<string, string[]> = {};
  plan.forEach(({ name, target, matchedBy }, i) => {
    const { r, alpha } = rankAndAlphaFor(config, name);
    const lora = new LoraLinear(target, {
      r,
      alpha,
      useRslora: config.useRslora,
      dropout: config.loraDropout,
      init: config.initLoraWeights,
      adapterName,
      ...(config.seed === undefined ? {} : { seed: mixSeed(config.seed, i) }),
    });
    replaceModule(root, name, lora);
    wrapped.push({
      name,
      matchedBy,
      r,
      alpha,
      scaling: loraScaling(alpha, r, config.useRslora),
      inFeatures: target.inFeatures,
      outFeatures: target.outFeatures,
    });
    (byTarget[matchedBy] ??= []).push(name);
  });

  if (opts.freezeNonLora ?? true) freezeNonLora(root, config.modulesToSave);

  const ex = config.excludeModules;
  const allNames = modules.map(([n]) => n);
  const unmatchedExcludes =
    ex === null
      ? []
      : typeof ex === 'string'
        ? allNames.some((n) => isExcluded(ex, n))
          ? []
          : [ex]
        : ex.filter((k) => !allNames.some((n) => isExcluded([k], n)));

  const params = namedParameters(root);
  const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
  return {
    adapterName,
    wrapped,
    count: wrapped.length,
    byTarget,
    skipped,
    unmatchedExcludes,
    loraParameters: wrapped.reduce((s, w) => s + w.r * (w.inFeatures + w.outFeatures), 0),
    trainableParameters: params.filter(([, v]) => v.trainable).reduce((s, [, v]) => s + size(v.shape), 0),
    totalParameters: params.reduce((s, [, v]) => s + size(v.shape), 0),
  };
}

/** True for a LoRA A/B parameter name (`...lora_A.<adapter>.weight`). */
export function isLoraParameterName(name: string): boolean {
  return /(^|\.)lora_[AB]\.[^.]+\.weight$/.test(name);
}

/**
 * PEFT's mark_only_adapters_as_trainable + modules_to_save: LoRA A/B trainable, modules named by
 * `modulesToSave` (PEFT's match: a path segment sequence ending the name) trainable, all else frozen.
 */
export function freezeNonLora(root: Module, modulesToSave: string[] | null = null): void {
  for (const [name, v] of namedParameters(root, { removeDuplicate: false })) {
    v.trainable = isLoraParameterName(name) || isModuleToSave(modulesToSave, name.slice(0, name.lastIndexOf('.')));
  }
}

/** The LoRA layers of a tree with their names. */
export function loraLayers(root: Module): Array<[string, LoraLinear]> {
  return namedModules(root).filter((e): e is [string, LoraLinear] => e[1] instanceof LoraLinear);
}

/**
 * Replaces every LoraLinear by its base Linear (PEFT's unload / merge_and_unload). With `merge`,
 * the adapter is folded into the base weight first (if not already merged). Returns the names.
 */
export async function unloadLora(root: Module, opts: { merge?: boolean; safe?: boolean } = {}): Promise<string[]> {
  const done: string[] = [];
  for (const [name, layer] of loraLayers(root)) {
    if (opts.merge && !layer.merged) await layer.merge({ safe: opts.safe ?? false });
    if (!opts.merge && layer.merged) layer.unmerge();
    const base = layer.baseLayer;
    layer.loraA.dispose();
    layer.loraB.dispose();
    if (name === '') throw new LoraConfigError('the root itself is a LoraLinear; use its baseLayer');
    replaceModule(root, name, base);
    done.push(name);
  }
  return done;
}

/** Merges (or unmerges) every LoRA layer in place. Async: `safe` reads each merged weight back. */
export async function mergeLora(root: Module, opts: { safe?: boolean } = {}): Promise<number> {
  let n = 0;
  for (const [, l] of loraLayers(root)) {
    if (l.merged) continue;
    await l.merge(opts);
    n++;
  }
  return n;
}
export function unmergeLora(root: Module): number {
  let n = 0;
  for (const [, l] of loraLayers(root)) if (l.merged) l.unmerge(), n++;
  return n;
}

/** Each LoRA layer's dropout-mask counter, by module name (for exact resume of seeded dropout). */
export function dropoutState(root: Module): Record<string, number> {
  return Object.fromEntries(loraLayers(root).map(([n, l]) => [n, l.dropoutCalls]));
}

/** Restores `dropoutState`; throws naming layers the state lacks or does not know. */
export function restoreDropoutState(root: Module, state: Record<string, number>): void {
  const layers = new Map(loraLayers(root));
  const unknown = Object.keys(state).filter((n) => !layers.has(n));
  const missing = [...layers.keys()].filter((n) => !(n in state));
  if (unknown.length + missing.length > 0) {
    throw new LoraConfigError(
      `dropout state does not fit the model: missing [${missing.join(', ')}], unknown [${unknown.join(', ')}]`,
    );
  }
  for (const [n, l] of layers) {
    const v = state[n]!;
    if (!(Number.isInteger(v) && v >= 0))
      throw new LoraConfigError(`dropout state for '${n}' must be an integer >= 0, got ${v}`);
    l.dropoutCalls = v;
  }
}
