// PEFT's target selection, exactly: `target_modules` matching (tuners_utils.check_target_module_exists) and the
// `all-linear` shorthand (tuners_utils._maybe_include_all_linear_layers), in its two historical forms.
import type { ModuleSpec } from './modules.js';

/** PEFT's matching of one module path against `target_modules`: a string is a regex that must match the whole
 * path (re.fullmatch); a list matches a path equal to an entry or ending in "." + entry. */
export function matchesTargetModules(path: string, targets: string | readonly string[]): boolean {
  if (typeof targets === 'string') return new RegExp(`^(?:${targets})$`).test(path);
  return targets.some((t) => path === t || path.endsWith(`.${t}`));
}

/**
 * How `all-linear` expands:
 * - `'module-names'` (current PEFT): every nn.Linear's full module path, minus the module that
 *   `get_output_embeddings()` returns.
 * - `'base-names'` (older PEFT, e.g. 0.11.1, which OpenVLA pins): the set of every nn.Linear's LAST name segment
 *   ("q_proj", "proj", "lm_head", …), minus the output embedding's FULL path. When the output embedding is nested
 *   (OpenVLA's `language_model.lm_head`) nothing is removed, so lm_head is targeted; and since targets then match
 *   by suffix, any other wrappable module with the same last segment — a Conv2d named `patch_embed.proj` — is
 *   targeted too.
 */
export type AllLinearRule = 'module-names' | 'base-names';

/** The `target_modules` PEFT derives from `all-linear` for a model's modules. */
export function allLinearTargets(
  modules: readonly ModuleSpec[],
  outputEmbedding: string | null,
  rule: AllLinearRule = 'module-names',
): string[] {
  const linears = modules.filter((m) => m.kind === 'Linear').map((m) => m.path);
  if (rule === 'module-names') return linears.filter((p) => p !== outputEmbedding);
  const names = new Set(linears.map((p) => p.slice(p.lastIndexOf('.') + 1)));
  if (outputEmbedding !== null) names.delete(outputEmbedding);
  return [...names].sort();
}
