// The strict key check of an adapter against the model built for the config, before any value is
// assigned: every adapter tensor must map to a LoRA-wrapped module of the model, every wrapped
// module must get both lora_A and lora_B, and each pair's shapes (hence its rank) must be the
// layer's. The result names what is wrong in the user's terms (an adapter for another model or
// other target modules, a different rank), which is what the refusal message says. lora-core's
// applyAdapter repeats the key/shape check (and rank/alpha vs adapter_config.json) when assigning.
import type { PeftAdapter } from '@vla-lora/checkpoint-io';
import { PEFT_PREFIX, type LoraLinear } from '@vla-lora/lora-core';

export interface AdapterFit {
  /** File tensors that belong to no wrapped module of the model. */
  unexpected: string[];
  /** Wrapped modules without lora_A and/or lora_B in the file (key names). */
  missing: string[];
  /** Pairs present for a wrapped module with the wrong shape. */
  wrongShape: Array<{ key: string; model: number[]; file: number[] }>;
  /** Rank of the file's lora_A per wrapped module whose rank differs from the layer's. */
  rankMismatch: Array<{ module: string; modelRank: number; fileRank: number }>;
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
  return {
    unexpected,
    missing,
    wrongShape,
    rankMismatch,
    ok: unexpected.length + missing.length + wrongShape.length === 0,
  };
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
  return parts.join('; ');
}
