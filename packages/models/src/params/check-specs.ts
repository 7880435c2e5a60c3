// The loud check that a built (and possibly LoRA-wrapped) model holds exactly the declared parameters.
import type { ParamSpec } from '@vla-lora/gemma-config';
import { namedParameters, type Module } from '@vla-lora/lora-core';
import { SpecMismatchError } from '../errors.js';

/**
 * Compares `namedParameters(root)` (names and shapes, tied weights counted once) with `specs`.
 * `prefix` is prepended to the model's names first (e.g. `base_model.model.` for PEFT-named specs).
 * Throws SpecMismatchError listing missing, extra and reshaped parameters.
 */
export function checkAgainstSpecs(root: Module, specs: readonly ParamSpec[], prefix = ''): void {
  const want = new Map(specs.map((s) => [s.path, s.shape]));
  const aliases = new Set(specs.flatMap((s) => s.aliases ?? []));
  const have = new Map(namedParameters(root).map(([n, v]) => [prefix + n, v.shape]));
  const missing = [...want.keys()].filter((p) => !have.has(p));
  const extra = [...have.keys()].filter((p) => !want.has(p) && !aliases.has(p));
  const reshaped = [...have].filter(([p, s]) => {
    const w = want.get(p);
    return w !== undefined && (w.length !== s.length || w.some((d, i) => d !== s[i]));
  });
  if (missing.length + extra.length + reshaped.length > 0) {
    const fmt = (xs: string[]): string =>
      xs.length > 6 ? `${xs.slice(0, 6).join(', ')}, ... (${xs.length})` : xs.join(', ');
    throw new SpecMismatchError(
      `the model's parameters differ from the specs: missing [${fmt(missing)}], not declared [${fmt(extra)}], ` +
        `other shape [${fmt(reshaped.map(([p, s]) => `${p} [${s}] vs [${want.get(p)}]`))}]`,
    );
  }
}
