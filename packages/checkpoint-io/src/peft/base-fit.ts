// Adapter fit against a base checkpoint from tensor names, dtypes and shapes only (safetensors headers):
// every LoRA module lands on a base `<module>.weight` of rank 2 with lora_A [r, in] and lora_B [out, r]
// for the base's [out, in] (embeddings: lora_embedding_A [r, num], lora_embedding_B [dim, r] for [num, dim]),
// A and B agree on r and r is the config's (rank_pattern), modules_to_save tensors exist with the
// base's shape, and every base module the config targets (PEFT's rules) has weights. Names are
// generic: nothing here knows a model family. No node: imports.
import type { Dtype } from '../dtype/dtypes.js';
import type { PeftLoraConfig } from './config.js';
import { AdapterBaseMismatchError } from './errors.js';
import { parseLoraKey, relativeModulePath } from './names.js';
import { isAllLinear, matchTarget, rankAndAlphaFor, rulesFromPeftJson, expandAllLinear } from './rules.js';

/** A tensor's name, dtype and shape (a safetensors header entry). */
export interface TensorShapeInfo {
  name: string;
  dtype: Dtype;
  shape: readonly number[];
}

export interface AdapterFitReport {
  /** Adapter modules checked against the base. */
  modules: number;
  /** Base tensors that receive a LoRA delta (`<module>.weight`). */
  targets: string[];
  /** Base tensors replaced by modules_to_save copies. */
  replaced: string[];
  /** Adapter modules / tensors with no base tensor (the adapter targets modules the base lacks). */
  extra: string[];
  /** Base modules the config targets (PEFT's rules) with no LoRA weights in the adapter. */
  missing: string[];
  shapeMismatches: Array<{ name: string; expected: number[]; got: number[] }>;
  rankMismatches: Array<{ module: string; expected: number; rankA: number; rankB: number }>;
  /** Base tensors that cannot take a delta (not 2-D, not float). */
  unsupported: Array<{ name: string; why: string }>;
  warnings: string[];
}

const FLOAT = new Set<Dtype>(['F64', 'F32', 'F16', 'BF16']);
const eq = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/** The base tensor an adapter tensor lands on (before any wrapper prefix is removed). */
function landsOn(name: string): string {
  const parts = parseLoraKey(name);
  return parts === null || parts.role === 'bias'
    ? relativeModulePath(name)
    : `${relativeModulePath(parts.module)}.weight`;
}

/**
 * The wrapper segment in front of every adapter name that the base lacks, or ''. An adapter saved
 * from a module that holds the base model as a child (LeRobot's PI0Policy holds PI0Pytorch as
 * `.model`, so its PEFT names read `base_model.model.model.<base name>`) lands on the base only
 * after that segment is removed: when no adapter tensor lands on a base tensor as named, all share
 * one first segment, and with it removed at least one does, that segment is the prefix.
 */
export function adapterWrapperPrefix(adapter: readonly TensorShapeInfo[], base: readonly TensorShapeInfo[]): string {
  const byName = new Set(base.map((t) => t.name));
  const names = adapter.map((t) => landsOn(t.name));
  if (names.length === 0 || names.some((n) => byName.has(n))) return '';
  const first = names[0]!.split('.')[0]!;
  const prefix = `${first}.`;
  if (!names.every((n) => n.startsWith(prefix))) return '';
  return names.some((n) => byName.has(n.slice(prefix.length))) ? prefix : '';
}

/**
 * Compares an adapter (config + tensor headers, on-disk names `base_model.model.<module>.lora_A.weight`)
 * with a base checkpoint's tensor headers. Returns every finding; `assertAdapterFits` throws them.
 * `allowWrapperPrefix`: accept adapter names with one wrapper segment the base lacks
 * (`adapterWrapperPrefix`, e.g. LeRobot's `model.`), with a warning; off by default because a caller
 * that then applies names itself (a merge) must strip the same prefix.
 */
export function checkAdapterFit(
  config: PeftLoraConfig,
  adapter: readonly TensorShapeInfo[],
  base: readonly TensorShapeInfo[],
  opts: { allowWrapperPrefix?: boolean } = {},
): AdapterFitReport {
  const byName = new Map(base.map((t) => [t.name, t]));
  const pairs = new Map<string, { kind: 'linear' | 'embedding'; A?: readonly number[]; B?: readonly number[] }>();
  const report: AdapterFitReport = {
    modules: 0,
    targets: [],
    replaced: [],
    extra: [],
    missing: [],
    shapeMismatches: [],
    rankMismatches: [],
    unsupported: [],
    warnings: [],
  };
  // names in the adapter's namespace (prefix + base name) for its own config's rules and for messages
  const prefix = opts.allowWrapperPrefix ? adapterWrapperPrefix(adapter, base) : '';
  const strip = (rel: string): string => (prefix !== '' && rel.startsWith(prefix) ? rel.slice(prefix.length) : rel);
  if (prefix !== '')
    report.warnings.push(
      `every adapter module name carries "${prefix}" in front of the base's (saved from a wrapper that holds this model as .${prefix.slice(0, -1)}, e.g. LeRobot's PI0Policy): matched after removing it`,
    );
  for (const t of adapter) {
    const parts = parseLoraKey(t.name);
    if (parts === null || parts.role === 'bias') {
      // modules_to_save copies (and lora_B biases) replace / sit beside base tensors of the same name
      const rel = strip(relativeModulePath(t.name));
      const b = byName.get(rel);
      if (parts !== null) report.warnings.push(`${t.name}: lora_B bias (lora_bias) is not checked against the base`);
      else if (b === undefined) report.extra.push(t.name);
      else if (!eq(b.shape, t.shape))
        report.shapeMismatches.push({ name: t.name, expected: [...b.shape], got: [...t.shape] });
      else report.replaced.push(rel);
      continue;
    }
    if (parts.role === 'magnitude') continue; // DoRA magnitude [out]: checked with its pair below
    const mod = strip(relativeModulePath(parts.module));
    const p = pairs.get(mod) ?? { kind: parts.role.startsWith('embedding') ? 'embedding' : 'linear' };
    if (parts.role === 'A' || parts.role === 'embedding_A') p.A = t.shape;
    else p.B = t.shape;
    pairs.set(mod, p);
  }
  report.modules = pairs.size;
  for (const [mod, p] of pairs) {
    const wName = `${mod}.weight`;
    const w = byName.get(wName);
    if (w === undefined) {
      report.extra.push(`base_model.model.${prefix}${mod}`);
      continue;
    }
    if (w.shape.length !== 2) {
      report.unsupported.push({ name: wName, why: `shape [${w.shape.join(', ')}] is not 2-D` });
      continue;
    }
    if (!FLOAT.has(w.dtype)) {
      report.unsupported.push({ name: wName, why: `dtype ${w.dtype} is not a float` });
      continue;
    }
    report.targets.push(wName);
    const [d0, d1] = w.shape as [number, number];
    // Linear weight [out, in]: A [r, in], B [out, r]. Embedding weight [num, dim]: A [r, num], B [dim, r].
    const [aCols, bRows] = p.kind === 'linear' ? [d1, d0] : [d0, d1];
    const rankA = p.A?.[0] ?? -1;
    const rankB = p.B?.[1] ?? -1;
    const tag = p.kind === 'linear' ? 'lora_' : 'lora_embedding_';
    if (p.A === undefined || p.B === undefined) {
      report.shapeMismatches.push({
        name: `base_model.model.${prefix}${mod}.${tag}${p.A === undefined ? 'A' : 'B'}`,
        expected: p.A === undefined ? [rankB, aCols] : [bRows, rankA],
        got: [],
      });
      continue;
    }
    if (p.A.length !== 2 || p.A[1] !== aCols)
      report.shapeMismatches.push({
        name: `base_model.model.${prefix}${mod}.${tag}A`,
        expected: [rankA, aCols],
        got: [...p.A],
      });
    if (p.B.length !== 2 || p.B[0] !== bRows)
      report.shapeMismatches.push({
        name: `base_model.model.${prefix}${mod}.${tag}B`,
        expected: [bRows, rankB],
        got: [...p.B],
      });
    const expected = rankAndAlphaFor(rulesFromPeftJson(config), prefix + mod).r;
    if (rankA !== rankB || rankA !== expected)
      report.rankMismatches.push({ module: prefix + mod, expected, rankA, rankB });
  }
  // every base module PEFT would wrap has weights (needs the module list: the base's 2-D weights)
  if (config.target_modules === null || config.target_modules === undefined) {
    report.warnings.push("target_modules is null (PEFT's per-architecture default): missing targets not checked");
  } else if (isAllLinear(config.target_modules)) {
    report.warnings.push(
      "target_modules is 'all-linear': headers cannot tell Linear from Embedding weights, so base modules without LoRA are not reported",
    );
  } else {
    const baseModules = base
      .filter((t) => t.name.endsWith('.weight') && t.shape.length === 2)
      .map((t) => t.name.slice(0, -'.weight'.length));
    const rules = expandAllLinear(
      rulesFromPeftJson(config),
      baseModules.map((m) => prefix + m),
    );
    report.missing = baseModules.filter((m) => !pairs.has(m) && matchTarget(rules, prefix + m).matched);
  }
  return report;
}

/** Throws AdapterBaseMismatchError listing every finding of `report`, or returns when the adapter fits. */
export function assertAdapterFits(dir: string, baseWhere: string, report: AdapterFitReport): void {
  const { extra, missing, shapeMismatches, rankMismatches, unsupported } = report;
  if (extra.length + missing.length + shapeMismatches.length + rankMismatches.length + unsupported.length === 0) return;
  const some = (xs: string[]): string =>
    `${xs.slice(0, 5).join(', ')}${xs.length > 5 ? `, … (${xs.length} in all)` : ''}`;
  const parts: string[] = [];
  if (extra.length > 0)
    parts.push(`${extra.length} adapter module(s)/tensor(s) have no tensor in the base: ${some(extra)}`);
  if (missing.length > 0)
    parts.push(
      `${missing.length} base module(s) targeted by adapter_config.json have no LoRA weights: ${some(missing)}`,
    );
  if (shapeMismatches.length > 0)
    parts.push(
      `${shapeMismatches.length} shape mismatch(es): ${some(shapeMismatches.map((s) => `${s.name} expected [${s.expected.join(', ')}] got [${s.got.join(', ')}]`))}`,
    );
  if (rankMismatches.length > 0)
    parts.push(
      `${rankMismatches.length} rank mismatch(es): ${some(rankMismatches.map((m) => `${m.module} lora_A r=${m.rankA}, lora_B r=${m.rankB}, config r=${m.expected}`))}`,
    );
  if (unsupported.length > 0)
    parts.push(
      `${unsupported.length} base tensor(s) cannot take a LoRA delta: ${some(unsupported.map((u) => `${u.name} (${u.why})`))}`,
    );
  throw new AdapterBaseMismatchError(
    dir,
    `${dir} does not fit the base ${baseWhere}: ${parts.join('; ')}. Is this the base model the adapter was trained on?`,
    report,
  );
}
