import { NoParametersError } from './errors.js';
import type { FreezePlan, PlanEntry } from './policy.js';
import { formatThousands, peftTrainableLine } from './python-format.js';

export interface ModuleGroup {
  module: string;
  tensors: number;
  params: number;
  trainableTensors: number;
  trainableParams: number;
  loraTensors: number;
  status: 'trainable' | 'frozen' | 'partial';
  /** The decisions that applied in this module (rule or default), with how many tensors each decided. */
  decidedBy: Record<string, number>;
}

export interface FreezeReport {
  groups: ModuleGroup[];
  total: number;
  trainable: number;
  trainablePercent: number;
  loraTensors: number;
  loraParams: number;
  /** PEFT's `trainable params: X || all params: Y || trainable%: Z`. */
  peftLine: string;
  /** Human-readable lines: LoRA detection, per-module table, PEFT line. */
  lines: string[];
}

const isLora = (path: string): boolean =>
  path.split('.').some((s) => s === 'lora_A' || s === 'lora_B' || s === 'lora_embedding_A' || s === 'lora_embedding_B');

/**
 * Default grouping: the path up to its first numeric segment (all layers of a stack together), or
 * the owning module (the path without its parameter name) when it has no numeric segment.
 */
export function defaultModuleOf(path: string): string {
  const parts = path.split('.');
  const firstNum = parts.findIndex((p) => /^\d+$/.test(p));
  if (firstNum > 0) return parts.slice(0, firstNum).join('.');
  return parts.length > 1 ? parts.slice(0, -1).join('.') : path;
}

/** A report grouped by module, with counts and PEFT's line. Throws NoParametersError for an empty plan. */
export function freezeReport(plan: FreezePlan, opts: { moduleOf?: (path: string) => string } = {}): FreezeReport {
  if (plan.entries.length === 0 || plan.total === 0) throw new NoParametersError();
  const moduleOf = opts.moduleOf ?? defaultModuleOf;
  const groups = new Map<string, ModuleGroup>();
  let loraTensors = 0;
  let loraParams = 0;
  const add = (e: PlanEntry): void => {
    const m = moduleOf(e.path);
    let g = groups.get(m);
    if (!g)
      groups.set(
        m,
        (g = {
          module: m,
          tensors: 0,
          params: 0,
          trainableTensors: 0,
          trainableParams: 0,
          loraTensors: 0,
          status: 'frozen',
          decidedBy: {},
        }),
      );
    g.decidedBy[e.reason] = (g.decidedBy[e.reason] ?? 0) + 1;
    g.tensors += 1;
    g.params += e.numel;
    if (e.trainable) {
      g.trainableTensors += 1;
      g.trainableParams += e.numel;
    }
    if (isLora(e.path)) {
      g.loraTensors += 1;
      loraTensors += 1;
      loraParams += e.numel;
    }
  };
  plan.entries.forEach(add);
  for (const g of groups.values())
    g.status = g.trainableTensors === 0 ? 'frozen' : g.trainableTensors === g.tensors ? 'trainable' : 'partial';
  const peftLine = peftTrainableLine(plan.trainable, plan.total);
  const width = Math.max(6, ...[...groups.keys()].map((k) => k.length));
  const lines = [
    loraTensors > 0
      ? `LoRA detected: ${formatThousands(loraTensors)} LoRA tensors, ${formatThousands(loraParams)} parameters`
      : 'LoRA: none (no lora_A / lora_B tensors)',
    `${'module'.padEnd(width)}  ${'status'.padEnd(9)}  ${'tensors'.padStart(8)}  ${'trainable'.padStart(15)}  ${'params'.padStart(15)}`,
    ...[...groups.values()].map(
      (g) =>
        `${g.module.padEnd(width)}  ${g.status.padEnd(9)}  ${String(g.tensors).padStart(8)}  ${formatThousands(g.trainableParams).padStart(15)}  ${formatThousands(g.params).padStart(15)}`,
    ),
    peftLine,
  ];
  return {
    groups: [...groups.values()],
    total: plan.total,
    trainable: plan.trainable,
    trainablePercent: (100 * plan.trainable) / plan.total,
    loraTensors,
    loraParams,
    peftLine,
    lines,
  };
}
