// `vla-train plan <name>` as a function: a pi0 config (planRun) or a family recipe trained by the user's PyTorch
// trainer (gemma-config's planFamily + freeze-policy's graph preflight), as text and as the JSON report.
import { preflightGraph, type GraphPreflightReport } from '@vla-lora/freeze-policy';
import {
  FAMILY_RECIPE_NAMES,
  isLoraPath,
  planFamily,
  type FamilyRecipe,
  type MemoryBillRow,
  type PeftLoraConfigJson,
} from '@vla-lora/gemma-config';
import { applyOverrides, getTrainConfig } from '../config/index.js';
import { planRun } from './plan.js';

/** The JSON report of a pi0 config. */
export interface Pi0PlanJson {
  config: string;
  pi0: string;
  trainable: number;
  total: number;
  trainablePercent: number;
  loraTensors: number;
  loraParams: number;
  memory: { perDeviceBytes: number; rows: MemoryBillRow[] };
  tokensPerExample: number;
}

/** The JSON report of a family recipe (OpenVLA, Qwen2.5-VL). */
export interface FamilyPlanJson {
  config: string;
  baseModel: string;
  peftLine: string;
  trainable: number;
  total: number;
  baseParams: number;
  trainablePercent: number;
  loraTensors: number;
  loraModules: number;
  peftConfig: PeftLoraConfigJson;
  memory: { perDeviceBytes: number; rows: MemoryBillRow[] };
  published: { counts: FamilyRecipe['publishedCounts'] | null; memory: FamilyRecipe['publishedMemory'] | null };
  preflight: Pick<GraphPreflightReport, 'disconnected' | 'trainableByStage'>;
}

export type PlanReport = { text: string } & (
  | { kind: 'pi0'; json: Pi0PlanJson }
  | { kind: 'family'; json: FamilyPlanJson }
);

/** True for the recipes vla-lora plans but does not train (FAMILY_RECIPE_NAMES). */
export const isFamilyRecipe = (name: string): boolean => (FAMILY_RECIPE_NAMES as readonly string[]).includes(name);

/**
 * Accounting, memory bill (and, for a family recipe, the graph preflight) of `name`: a pi0 config of the registry with
 * `overrides` (`key=value`, as `--set`) applied, or a family recipe (overrides do not apply). Throws Pi0ConfigError
 * listing the known names for an unknown one.
 */
export function planReport(name: string, overrides: readonly string[] = []): PlanReport {
  if (isFamilyRecipe(name)) return familyReport(name);
  const p = planRun(applyOverrides(getTrainConfig(name), overrides));
  const json: Pi0PlanJson = {
    config: p.config,
    pi0: p.pi0,
    trainable: p.report.trainable,
    total: p.report.total,
    trainablePercent: p.report.trainablePercent,
    loraTensors: p.report.loraTensors,
    loraParams: p.report.loraParams,
    memory: { perDeviceBytes: p.bill.perDeviceBytes, rows: p.bill.rows },
    tokensPerExample: p.tokensPerExample,
  };
  return { kind: 'pi0', text: p.text, json };
}

function familyReport(name: string): PlanReport {
  const p = planFamily(name);
  const t = p.recipe.training;
  const pre = preflightGraph({
    flow: p.recipe.flow,
    params: p.recipe.specs.map((s) => ({ path: s.path, trainable: isLoraPath(s.path) })),
    gradientCheckpointing: t.gradientCheckpointing ? t.checkpointKind : false,
    inputRequiresGrad: t.inputRequiresGrad,
    onDisconnected: 'report',
  });
  const json: FamilyPlanJson = {
    config: name,
    baseModel: p.recipe.baseModel,
    peftLine: p.peftLine,
    trainable: p.counts.trainable,
    total: p.counts.total,
    baseParams: p.baseParams,
    trainablePercent: p.counts.trainablePercent,
    loraTensors: p.counts.loraTensors,
    loraModules: p.recipe.loraModules.length,
    peftConfig: p.recipe.peftConfig,
    memory: { perDeviceBytes: p.bill.perDeviceBytes, rows: p.bill.rows },
    published: { counts: p.recipe.publishedCounts ?? null, memory: p.recipe.publishedMemory ?? null },
    preflight: { disconnected: pre.disconnected, trainableByStage: pre.trainableByStage },
  };
  return { kind: 'family', text: [...p.lines, ...pre.lines].join('\n'), json };
}
