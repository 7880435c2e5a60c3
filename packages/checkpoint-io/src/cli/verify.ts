// `vla-ckpt verify <adapter dir>`
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
