// Everything a user checks by hand before trusting a LoRA adapter: the checks run on a parsed config and
// opened weights, wherever they come from (verify-dir.ts opens a directory; a browser opens dropped files).
import { numel, type Dtype } from '../dtype/dtypes.js';
import { toFloat32 } from '../dtype/convert.js';
import { loraRank, type PeftLoraConfig } from './config.js';
import { expandAllLinear, isAllLinear, matchTarget, rulesFromPeftJson, targetEntriesNaming } from './rules.js';
import {
  AdapterMissingTargetsError,
  AdapterNonFiniteError,
  AdapterRankMismatchError,
  AdapterUnpairedError,
  AdapterUntargetedError,
} from './errors.js';
import type { AdapterWeights } from './weights.js';
import { parseLoraKey, relativeModulePath } from './names.js';

export interface AdapterReport {
  dir: string;
  weightsFile: string;
  format: 'safetensors' | 'bin';
  /** Tensors whose names are LoRA parameters (lora_A/B, lora_embedding_A/B, lora_magnitude_vector). */
  loraTensors: number;
  /** Values (elements) in those tensors. */
  loraValues: number;
  /** Other tensors in the file (modules_to_save, biases …). */
  otherTensors: number;
  /** Modules with a LoRA pair. */
  modules: number;
  /** Ranks found → number of modules with that rank. */
  ranks: Record<number, number>;
  dtypes: Partial<Record<Dtype, number>>;
  /** Modules whose lora_B is entirely zero (untrained). */
  zeroBModules: string[];
  config: PeftLoraConfig;
  warnings: string[];
  /** "N LoRA tensors, M values" */
  summary: string;
}

const FLOAT_DTYPES = new Set<Dtype>(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);

/** The errors for weights that hold nothing (they name where the ZeRO shards are, which needs a look around). */
export interface EmptyAdapterErrors {
  placeholder(weightsPath: string): Error | Promise<Error>;
  zeroElements(weightsPath: string, names: string[]): Error | Promise<Error>;
}

/**
 * Checks an adapter's config and weights and returns a report; throws the typed error of the first
 * failed check: placeholder / zero-element tensors (with the ZeRO hint), unpaired A/B, ranks that
 * disagree with r / rank_pattern, NaN/Inf, target modules with no weights, weights on modules the
 * config does not target (PEFT's rules: exclude_modules, modules_to_save, layers_to_transform /
 * layers_pattern). lora_B all zero is a warning. Tensors are streamed one at a time; `weights` is closed when done.
 */
export async function verifyAdapterWeights(
  dir: string,
  config: PeftLoraConfig,
  weights: AdapterWeights,
  empty: EmptyAdapterErrors,
): Promise<AdapterReport> {
  const { path, format } = weights;
  const warnings: string[] = [];
  const dtypes: Partial<Record<Dtype, number>> = {};
  // per module: shapes of A and B, and whether B is all zero (tensors are streamed, not kept)
  const pairs = new Map<string, { A?: number[]; B?: number[]; zeroB?: boolean }>();
  let loraTensors = 0;
  let loraValues = 0;
  let otherTensors = 0;
  const nonFinite: Array<{ name: string; nan: number; inf: number }> = [];
  try {
    if (weights.names.length === 0) throw await empty.placeholder(path);
    if (weights.emptyNames.length > 0) throw await empty.zeroElements(path, weights.emptyNames);
    for await (const [name, t] of weights.tensors()) {
      dtypes[t.dtype] = (dtypes[t.dtype] ?? 0) + 1;
      const parts = parseLoraKey(name);
      if (!parts || parts.role === 'bias') {
        otherTensors++;
        continue;
      }
      loraTensors++;
      loraValues += numel(t.shape);
      let allZero = false;
      if (!FLOAT_DTYPES.has(t.dtype)) {
        warnings.push(`${name} is ${t.dtype}, not a float dtype`);
      } else {
        const v = toFloat32(t);
        let nan = 0;
        let inf = 0;
        let nonzero = 0;
        for (let i = 0; i < v.length; i++) {
          const x = v[i]!;
          if (x !== x) nan++;
          else if (x === Infinity || x === -Infinity) inf++;
          if (x !== 0) nonzero++;
        }
        if (nan + inf > 0) nonFinite.push({ name, nan, inf });
        allZero = nonzero === 0;
      }
      if (parts.role === 'magnitude') continue;
      const entry = pairs.get(parts.module) ?? {};
      if (parts.role === 'A' || parts.role === 'embedding_A') entry.A = t.shape;
      else Object.assign(entry, { B: t.shape, zeroB: allZero });
      pairs.set(parts.module, entry);
    }
  } finally {
    await weights.close();
  }

  const unpaired = [...pairs].filter(([, p]) => !p.A || !p.B);
  if (unpaired.length > 0) {
    const list = unpaired.map(([m, p]) => `${m} (${p.A ? 'lora_B' : 'lora_A'} missing)`);
    throw new AdapterUnpairedError(
      dir,
      `${path}: ${unpaired.length} module(s) have only half of their LoRA pair: ${list.slice(0, 5).join(', ')}${list.length > 5 ? ' …' : ''}; the file is incomplete — re-export the adapter`,
      unpaired.map(([m]) => m),
    );
  }

  const ranks: Record<number, number> = {};
  const mismatches: Array<{ module: string; expected: number; rankA: number; rankB: number }> = [];
  const zeroBModules: string[] = [];
  for (const [module, p] of pairs) {
    const rankA = p.A![0] ?? -1;
    const rankB = p.B!.length >= 2 ? p.B![1]! : -1;
    const expected = loraRank(config, relativeModulePath(module));
    if (rankA !== rankB || rankA !== expected) mismatches.push({ module, expected, rankA, rankB });
    ranks[rankA] = (ranks[rankA] ?? 0) + 1;
    if (p.zeroB) zeroBModules.push(module);
  }
  if (mismatches.length > 0) {
    const m = mismatches[0]!;
    throw new AdapterRankMismatchError(
      dir,
      `${path}: ${mismatches.length} module(s) have a LoRA rank that disagrees with adapter_config.json (r=${config.r}${config.rank_pattern && Object.keys(config.rank_pattern).length ? ', rank_pattern' : ''}); e.g. ${m.module}: lora_A rank ${m.rankA}, lora_B rank ${m.rankB}, config says ${m.expected}. The config and weights come from different runs — use the config saved with these weights`,
      mismatches,
    );
  }

  if (nonFinite.length > 0) {
    const total = nonFinite.reduce((a, x) => a + x.nan + x.inf, 0);
    throw new AdapterNonFiniteError(
      dir,
      `${path}: ${total} NaN/Inf values in ${nonFinite.length} LoRA tensor(s), e.g. ${nonFinite[0]!.name} (${nonFinite[0]!.nan} NaN, ${nonFinite[0]!.inf} Inf); training diverged (lower the learning rate, check fp16 overflow) — use an earlier checkpoint`,
      nonFinite,
    );
  }

  const modules = [...pairs.keys()].map(relativeModulePath);
  checkTargets(dir, path, config, modules, warnings);

  if (zeroBModules.length === pairs.size) {
    warnings.push(
      `every lora_B (${zeroBModules.length} modules) is all zero: the adapter is untrained (fresh init) and changes nothing`,
    );
  } else if (zeroBModules.length > 0) {
    warnings.push(
      `${zeroBModules.length} of ${pairs.size} modules have an all-zero lora_B (untrained), e.g. ${zeroBModules[0]}`,
    );
  }

  return {
    dir,
    weightsFile: path,
    format,
    loraTensors,
    loraValues,
    otherTensors,
    modules: pairs.size,
    ranks,
    dtypes,
    zeroBModules,
    config,
    warnings,
    summary: `${loraTensors} LoRA tensors, ${loraValues} values`,
  };
}

/**
 * The adapter's modules against the config's target rules, decided as PEFT's injector decides
 * (the rulebook in rules.ts): every LoRA module must be one PEFT would wrap, else loading drops its
 * weights silently; every list entry / the regex must name at least one module.
 * `baseModules` (the base checkpoint's Linear modules: 2-D `<module>.weight` tensors) expands
 * 'all-linear' and makes the missing-weights check exact; without it the adapter's own modules
 * stand in for the base's Linear layers.
 */
export function checkTargets(
  dir: string,
  path: string,
  config: PeftLoraConfig,
  modules: string[],
  warnings: string[],
  baseModules?: string[],
): void {
  const t = config.target_modules;
  if (t === null || t === undefined) {
    warnings.push("target_modules is null (PEFT's per-architecture default): targets not checked");
    return;
  }
  const rules = expandAllLinear(rulesFromPeftJson(config), baseModules ?? modules);
  const untargeted: Array<{ module: string; reason: string }> = [];
  for (const m of modules) {
    const r = matchTarget(rules, m);
    if (!r.matched) untargeted.push({ module: m, reason: r.reason });
  }
  if (untargeted.length > 0) {
    const why: Record<string, string> = {
      excluded: 'exclude_modules',
      modules_to_save: 'modules_to_save',
      'no-target': 'not matched by target_modules',
      'layer-index': 'layers_to_transform / layers_pattern',
    };
    const list = untargeted.map((u) => `${u.module} (${why[u.reason]})`);
    throw new AdapterUntargetedError(
      dir,
      `${path}: ${untargeted.length} module(s) have LoRA weights but adapter_config.json does not target them, so PEFT (and lora-core) would not create LoRA there and loading would drop their weights: ${list.slice(0, 5).join(', ')}${list.length > 5 ? ' …' : ''}. The config and weights disagree — use the config saved with these weights`,
      untargeted,
    );
  }
  if (baseModules !== undefined) {
    // exact: every base module PEFT would wrap must have weights
    const have = new Set(modules);
    const missing = baseModules.filter((m) => !have.has(m) && matchTarget(rules, m).matched);
    if (missing.length > 0)
      throw new AdapterMissingTargetsError(
        dir,
        `${path}: ${missing.length} module(s) of the base that adapter_config.json targets have no LoRA weights, e.g. ${missing.slice(0, 5).join(', ')}; the weights were not saved (or the config belongs to another run)`,
        missing,
      );
    return;
  }
  if (isAllLinear(t)) return;
  const named = new Set<string>();
  for (const m of modules) for (const e of targetEntriesNaming(rules, m)) named.add(e);
  const entries = typeof t === 'string' ? [t] : t;
  const missing = entries.filter((e) => !named.has(e));
  if (missing.length === 0) return;
  const li = config.layers_to_transform;
  const filtered =
    (config.exclude_modules !== null && config.exclude_modules !== undefined && config.exclude_modules.length > 0) ||
    (li !== null && li !== undefined && (!Array.isArray(li) || li.length > 0));
  if (filtered) {
    // exclude_modules / layers_to_transform may legitimately remove every module an entry names;
    // only the base model's module list can tell (verify --base)
    warnings.push(
      `target_modules ${JSON.stringify(missing)} have no LoRA weights; exclude_modules / layers_to_transform may remove them all — check against the base with --base`,
    );
    return;
  }
  throw new AdapterMissingTargetsError(
    dir,
    typeof t === 'string'
      ? `${path}: no LoRA weight belongs to a module matching target_modules ${JSON.stringify(t)}`
      : `${path}: target_modules ${JSON.stringify(missing)} of adapter_config.json have no LoRA weights in the file; the weights were not saved (or the config belongs to another run)`,
    missing,
  );
}
