// `vla-ckpt verify <adapter dir>`
import type { AdapterBaseReport } from '../peft/base-fit-fs.js';
import type { AdapterReport } from '../peft/verify.js';
import { formatCount } from './format.js';

export function renderReport(r: AdapterReport): string {
  const ranks = Object.entries(r.ranks)
    .map(([rank, n]) => `r=${rank} x${n}`)
    .join(', ');
  const lines = [
    `${r.weightsFile} (${r.format})`,
    `verified: ${r.summary.replace(/(\d+) LoRA tensors, (\d+) values/, (_m, a: string, b: string) => `${formatCount(Number(a))} LoRA tensors, ${formatCount(Number(b))} values`)}`,
    `  ${r.modules} modules with A/B pairs (${ranks}), lora_alpha ${r.config.lora_alpha}${r.config.use_rslora ? ', rsLoRA' : ''}, targets ${JSON.stringify(r.config.target_modules)}`,
    `  dtypes: ${Object.entries(r.dtypes)
      .map(([d, n]) => `${d} x${n}`)
      .join(', ')}${r.otherTensors ? `; ${r.otherTensors} non-LoRA tensors` : ''}`,
    '  checked: pairs complete, ranks match r/rank_pattern, no NaN/Inf, every target module has weights',
  ];
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

/** The `--base` lines: what was read and what fits. */
export function renderFit(r: AdapterBaseReport): string {
  const lines = [
    `base: ${r.base.path} (${r.base.kind === 'sharded' ? `${r.base.shards} shards` : 'one file'}, ${formatCount(r.base.tensors)} tensors; headers only)`,
    `  fits: ${r.fit.targets.length} base weights take lora_B @ lora_A with matching [out, in] and rank${r.fit.replaced.length ? `; ${r.fit.replaced.length} replaced by modules_to_save` : ''}; no targeted base module lacks weights`,
  ];
  for (const w of r.fit.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
