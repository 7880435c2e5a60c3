// The one fit check of an adapter against the model built for the config, before any value is
// assigned: every adapter tensor must map to a LoRA-wrapped module of the model, every wrapped
// module must get both lora_A and lora_B, each pair's shapes (hence its rank) must be the layer's,
// and adapter_config.json's rank / alpha / rsLoRA for each module (r, lora_alpha, rank_pattern,
// alpha_pattern, use_rslora) must be the layer's, or the scaling silently differs. The result names
// what is wrong in the user's terms (an adapter for another model or other target modules, a
// different rank), which is what the refusal message says.
import type { PeftAdapter } from '@vla-lora/checkpoint-io';
import {
  loraConfigFromPeft,
  PEFT_PREFIX,
  rankAndAlphaFor,
  type LoraLinear,
  type PeftConfigJson,
} from '@vla-lora/lora-core';

export interface LoraScalingOf {
  r: number;
  alpha: number;
  rslora: boolean;
}

export interface AdapterFit {
  /** File tensors that belong to no wrapped module of the model. */
  unexpected: string[];
  /** Wrapped modules without lora_A and/or lora_B in the file (key names). */
  missing: string[];
  /** Pairs present for a wrapped module with the wrong shape. */
  wrongShape: Array<{ key: string; model: number[]; file: number[] }>;
  /** Rank of the file's lora_A per wrapped module whose rank differs from the layer's. */
  rankMismatch: Array<{ module: string; modelRank: number; fileRank: number }>;
  /** Modules whose r / alpha / rsLoRA in adapter_config.json differ from the layer's. */
  configMismatch: Array<{ module: string; model: LoraScalingOf; config: LoraScalingOf }>;
  ok: boolean;
}

const list = (xs: string[], n = 3): string =>
  `${xs.slice(0, n).join(', ')}${xs.length > n ? `, … (${xs.length} in all)` : ''}`;

export function checkAdapterFit(
  adapter: PeftAdapter,
  layers: Array<[string, LoraLinear]>,
  adapterName: string,
): AdapterFit {
  const expected = new Map<string, number[]>();
  const byModule = new Map<string, LoraLinear>();
  for (const [name, l] of layers) {
    byModule.set(name, l);
    expected.set(`${PEFT_PREFIX}${name}.lora_A.${adapterName}.weight`, [l.r, l.inFeatures]);
    expected.set(`${PEFT_PREFIX}${name}.lora_B.${adapterName}.weight`, [l.outFeatures, l.r]);
  }
  const unexpected = [...adapter.tensors.keys()].filter((k) => !expected.has(k));
  const missing = [...expected.keys()].filter((k) => !adapter.tensors.has(k));
  const wrongShape: AdapterFit['wrongShape'] = [];
  const rankMismatch: AdapterFit['rankMismatch'] = [];
  for (const [key, shape] of expected) {
    const t = adapter.tensors.get(key);
    if (!t) continue;
    if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
      wrongShape.push({ key, model: shape, file: [...t.shape] });
      const m = /^base_model\.model\.(.*)\.lora_A\./.exec(key);
      if (m && t.shape.length === 2)
        rankMismatch.push({ module: m[1]!, modelRank: byModule.get(m[1]!)!.r, fileRank: t.shape[0]! });
    }
  }
  const configMismatch = configMismatches(adapter, layers);
  return {
    unexpected,
    missing,
    wrongShape,
    rankMismatch,
    configMismatch,
    ok: unexpected.length + missing.length + wrongShape.length + configMismatch.length === 0,
  };
}

/** adapter_config.json's r / alpha / rsLoRA per wrapped module against the layer built for the config. */
function configMismatches(adapter: PeftAdapter, layers: Array<[string, LoraLinear]>): AdapterFit['configMismatch'] {
  const { config } = loraConfigFromPeft(adapter.config as PeftConfigJson);
  const out: AdapterFit['configMismatch'] = [];
  for (const [name, l] of layers) {
    const { r, alpha } = rankAndAlphaFor(config, name);
    if (l.r !== r || l.alpha !== alpha || l.useRslora !== config.useRslora)
      out.push({
        module: name,
        model: { r: l.r, alpha: l.alpha, rslora: l.useRslora },
        config: { r, alpha, rslora: config.useRslora },
      });
  }
  return out;
}

/** The refusal reason for a failed fit (empty string when it fits). */
export function describeAdapterFit(fit: AdapterFit, totalModules: number): string {
  if (fit.ok) return '';
  const parts: string[] = [];
  if (fit.unexpected.length > 0) {
    parts.push(
      `${fit.unexpected.length} adapter tensor(s) belong to no LoRA-wrapped module of this model (e.g. ${list(fit.unexpected)}): the adapter was trained for another model or other target modules`,
    );
  }
  if (fit.missing.length > 0) {
    const modules = new Set(fit.missing.map((k) => k.replace(/\.lora_[AB]\..*$/, '')));
    parts.push(
      `${modules.size} of the model's ${totalModules} wrapped modules get no LoRA weights from the file (missing ${list(fit.missing)})`,
    );
  }
  if (fit.rankMismatch.length > 0) {
    const r = fit.rankMismatch[0]!;
    parts.push(
      `rank mismatch in ${fit.rankMismatch.length} module(s): the config builds r=${r.modelRank} for ${r.module}, the adapter has r=${r.fileRank}`,
    );
  }
  const rankModules = fit.rankMismatch.map((r) => `${PEFT_PREFIX}${r.module}.lora_`);
  const shapeOnly = fit.wrongShape.filter((w) => !rankModules.some((m) => w.key.startsWith(m)));
  if (shapeOnly.length > 0) {
    const w = shapeOnly[0]!;
    parts.push(
      `${shapeOnly.length} tensor(s) with the wrong shape (e.g. ${w.key}: model [${w.model.join(', ')}], file [${w.file.join(', ')}])`,
    );
  }
  if (fit.configMismatch.length > 0) {
    const c = fit.configMismatch[0]!;
    parts.push(
      `adapter_config.json disagrees with the layers the config builds in ${fit.configMismatch.length} module(s) (e.g. ${c.module}: config builds r=${c.model.r} alpha=${c.model.alpha} rslora=${c.model.rslora}, adapter_config.json says r=${c.config.r} alpha=${c.config.alpha} rslora=${c.config.rslora}); the LoRA scaling would differ`,
    );
  }
  return parts.join('; ');
}
