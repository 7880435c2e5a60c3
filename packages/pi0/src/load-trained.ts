// loadTrainedPi0: a trained pi0 from disk (openpi's policy_config.create_trained_policy), used by
// evaluatePi0Run and by vla-serve. The model is built exactly as training builds it (buildPi0: same
// registry, same LoRA injection), then, refusing anything it cannot verify:
//   1. the adapter is read ONCE and verified while it is read (checkpoint-io's verifyAdapterWeights:
//      placeholder files, unpaired A/B, ranks vs adapter_config.json, NaN/Inf, targets without weights);
//   2. an all-zero lora_B everywhere (an untrained adapter) is refused unless allowed, and a seeded
//      base must be the one the adapter names;
//   3. the trained non-LoRA weights (heads) are the ones the config's freeze policy trains, found from
//      the config's parameter specs (no model needed) and read from trainable.safetensors;
//   4. norm stats that fit the model;
//   5. the ONE fit check (adapter-fit.ts: keys, shapes, rank / alpha / rsLoRA), then trainer's strict
//      assignTrainedWeights for the LoRA tensors and for the heads.
// Any failure throws a typed error (cause: the library error) and frees what was built.
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  findZeroCheckpointDir,
  insertAdapterName,
  openAdapterWeights,
  openSafetensors,
  pathExists,
  placeholderErrorFor,
  readAdapterConfig,
  verifyAdapterWeights,
  zeroElementErrorFor,
  type AdapterReport,
  type AdapterWeights,
  type F32Tensor,
  type PeftAdapter,
  type RawTensor,
} from '@vla-lora/checkpoint-io';
import { freezeReport } from '@vla-lora/freeze-policy';
import { getPi0Config, pi0ParamSpecs, type Pi0Config } from '@vla-lora/gemma-config';
import { loadNormStats, type LiberoNormStats } from '@vla-lora/lerobot-data';
import {
  applyAdapter,
  disposeModule,
  loraLayers,
  mergeLora,
  namedParameters,
  setTraining,
  unloadLora,
} from '@vla-lora/lora-core';
import type { Pi0Policy } from '@vla-lora/models';
import { assignTrainedWeights, isLoraParam, RUN_LAYOUT, runPath } from '@vla-lora/trainer';
import { checkAdapterFit, describeAdapterFit } from './adapter-fit.js';
import { planPi0Adapter, type Pi0AdapterPlan } from './adapter-config.js';
import { buildPi0, type BuiltPi0 } from './build.js';
import type { TrainConfig } from './config/index.js';
import { normStatsPath } from './dataset.js';
import {
  AdapterRefusedError,
  BaseWeightsRefusedError,
  NormStatsRefusedError,
  TokenizerRefusedError,
} from './errors.js';
import { freezePolicyFor } from './plan/index.js';
import type { PromptTokenizer } from './prompt-tokenizer.js';
import { tokenizerForRun } from './tokenizer-choice.js';

export interface LoadTrainedPi0Options {
  config: TrainConfig;
  /**
   * openpi PyTorch-layout weights (a model.safetensors file or a directory holding one). Absent or
   * null: the config's seeded random init, as `trainPi0` builds it without base weights; the adapter's
   * base_model_name_or_path must then name that init.
   */
  baseWeights?: string | null;
  /** PEFT adapter directory (adapter_config.json + adapter_model.safetensors / .bin). */
  adapter: string;
  /** The trained non-LoRA weights (heads); default: trainable.safetensors in the adapter dir or its parent (the run dir). */
  trainable?: string | null;
  /** openpi norm_stats.json; default: next to the adapter, the run dir, then the config's dataset under dataRoot. */
  normStats?: string | null;
  /** Data root the trainer used (default `data`), only to find the norm stats. */
  dataRoot?: string;
  /** Fold B·A·scaling into the base weights (faster per request; same outputs). */
  merge?: boolean;
  /** Accept an adapter whose every lora_B is zero (it changes nothing). Off by default. */
  allowUntrained?: boolean;
  /**
   * The tokenizer the run was trained with (openpi's paligemma_tokenizer.model or a tokenizer.json
   * dir); checked against <run>/tokenizer-record.json. Required for real-vocabulary configs.
   */
  tokenizer?: string | null;
  /** Progress lines. */
  log?: (line: string) => void;
}

export interface LoadSummary {
  config: string;
  pi0: string;
  base: string;
  adapterDir: string;
  lora: { tensors: number; values: number; modules: number; ranks: Record<number, number>; merged: boolean };
  heads: { file: string; tensors: number; values: number } | null;
  normStats: string;
  warnings: string[];
  /** The one line the log shows, e.g. "LoRA: 56 tensors, 22,528 values, merged". */
  loraLine: string;
}

export interface LoadedTrainedPi0 {
  trainConfig: TrainConfig;
  pi0: Pi0Config;
  policy: Pi0Policy;
  normStats: LiberoNormStats;
  /** The run's tokenizer (checked against its record). */
  tokenizer: PromptTokenizer;
  summary: LoadSummary;
  /** Frees the model's tensors. */
  dispose(): void;
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const errText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

async function firstExisting(paths: string[]): Promise<string | null> {
  for (const p of paths) if (await pathExists(p)) return p;
  return null;
}

/** The adapter read once: checkpoint-io's verification runs on the tensors as they stream in, and they are kept. */
async function readVerifiedAdapter(
  dir: string,
  adapterName: string,
): Promise<{ adapter: PeftAdapter; report: AdapterReport }> {
  const config = await readAdapterConfig(dir);
  const weights = await openAdapterWeights(dir);
  const tensors = new Map<string, RawTensor>();
  const kept: AdapterWeights = {
    path: weights.path,
    format: weights.format,
    names: weights.names,
    emptyNames: weights.emptyNames,
    async *tensors() {
      for await (const [name, t] of weights.tensors()) {
        tensors.set(insertAdapterName(name, adapterName), t);
        yield [name, t];
      }
    },
    close: () => weights.close(),
  };
  const report = await verifyAdapterWeights(dir, config, kept, {
    placeholder: async (path) =>
      placeholderErrorFor(dir, path, (await stat(path)).size, await findZeroCheckpointDir(dir)),
    zeroElements: async (path, names) => zeroElementErrorFor(dir, path, names, await findZeroCheckpointDir(dir)),
  });
  return { adapter: { config, tensors, adapterName }, report };
}

/** Checks on the adapter alone: readable and verified, trained, made for the base that will be built. */
async function readAdapterFor(
  cfg: TrainConfig,
  adapterDir: string,
  o: LoadTrainedPi0Options,
): Promise<{ adapter: PeftAdapter; report: AdapterReport; warnings: string[] }> {
  if (
    !(await stat(adapterDir).then(
      (s) => s.isDirectory(),
      () => false,
    ))
  ) {
    throw new AdapterRefusedError(
      `adapter directory ${adapterDir} does not exist (pass the PEFT adapter dir, e.g. <run>/adapter)`,
    );
  }
  let read: Awaited<ReturnType<typeof readVerifiedAdapter>>;
  try {
    read = await readVerifiedAdapter(adapterDir, getPi0Config(cfg.model.pi0).loraAdapterName);
  } catch (err) {
    throw new AdapterRefusedError(`refusing adapter ${adapterDir}: ${errText(err)}`, { cause: err });
  }
  const { report } = read;
  if (report.modules > 0 && report.zeroBModules.length === report.modules && !o.allowUntrained) {
    throw new AdapterRefusedError(
      `refusing adapter ${adapterDir}: every lora_B (${report.modules} modules) is all zero, so the adapter is a fresh initialisation and changes nothing; serve the trained adapter (or pass --allow-untrained-adapter to serve the base model on purpose)`,
    );
  }
  const warnings = [...report.warnings];
  const baseName = (report.config as { base_model_name_or_path?: unknown }).base_model_name_or_path;
  const seededName = `vla-lora:${cfg.model.pi0}:seed${cfg.trainer.seed}`;
  if (!o.baseWeights && baseName !== seededName) {
    throw new AdapterRefusedError(
      `refusing adapter ${adapterDir}: --seeded-base builds ${seededName}, but the adapter was trained on ${JSON.stringify(baseName ?? null)}; pass that model with --base-weights`,
    );
  }
  if (o.baseWeights && typeof baseName === 'string' && baseName.startsWith('vla-lora:')) {
    warnings.push(
      `the adapter was trained on the seeded base ${baseName} but --base-weights ${o.baseWeights} was given`,
    );
  }
  return { ...read, warnings };
}

/** The non-LoRA parameters the config's freeze policy trains (the heads), from the parameter specs; logs the plan. */
function trainedHeadsOf(cfg: TrainConfig, log: (line: string) => void): string[] {
  const plan = freezePolicyFor(cfg).plan(pi0ParamSpecs(getPi0Config(cfg.model.pi0)));
  for (const line of freezeReport(plan).lines) log(line);
  return plan.entries.filter((e) => e.trainable && !isLoraParam(e.path)).map((e) => e.path);
}

/** trainable.safetensors read in full (the heads are small), or null when the config trains no heads. */
async function readHeads(
  cfg: TrainConfig,
  heads: string[],
  adapterDir: string,
  trainable: string | null | undefined,
): Promise<{ file: string; tensors: Map<string, F32Tensor> } | null> {
  if (heads.length === 0) return null;
  const candidates = trainable
    ? [resolve(trainable)]
    : [join(adapterDir, RUN_LAYOUT.trainable), runPath(dirname(adapterDir), 'trainable')];
  const file = await firstExisting(candidates);
  if (file === null) {
    throw new AdapterRefusedError(
      `config ${cfg.name} trains ${heads.length} non-LoRA tensors (${heads.slice(0, 3).join(', ')}${heads.length > 3 ? ', …' : ''}) but no trained copy was found (looked for ${candidates.join(', ')}); serving the base values would serve an untrained head — pass --trainable <run>/trainable.safetensors`,
    );
  }
  const tensors = new Map<string, F32Tensor>();
  const reader = await openSafetensors(file);
  try {
    for (const t of reader.list()) tensors.set(t.name, { shape: [...t.shape], data: await reader.readFloat32(t.name) });
  } finally {
    await reader.close();
  }
  return { file, tensors };
}

/** The norm stats the model was trained with, checked against the model's action dim. */
async function findNormStats(
  cfg: TrainConfig,
  adapterDir: string,
  o: LoadTrainedPi0Options,
): Promise<{ file: string; stats: LiberoNormStats }> {
  const candidates = o.normStats
    ? [resolve(o.normStats)]
    : [
        join(adapterDir, RUN_LAYOUT.normStats),
        runPath(dirname(adapterDir), 'normStats'),
        normStatsPath(cfg, o.dataRoot ?? 'data'),
      ];
  const file = await firstExisting(candidates);
  if (file === null) {
    throw new NormStatsRefusedError(
      `no norm stats found (looked for ${candidates.join(', ')}); actions cannot be returned in robot units without the statistics the model was trained with: pass --norm-stats <dataset>/norm_stats.json (vla-train compute-norm-stats ${cfg.name} writes it)`,
    );
  }
  let stats: LiberoNormStats;
  try {
    stats = await loadNormStats(file);
  } catch (err) {
    throw new NormStatsRefusedError(`cannot use norm stats ${file}: ${errText(err)}`, { cause: err });
  }
  const dim = getPi0Config(cfg.model.pi0).actionDim;
  for (const k of ['state', 'actions'] as const) {
    if (stats[k].mean.length > dim) {
      throw new NormStatsRefusedError(
        `${file}: norm_stats.${k} has ${stats[k].mean.length} dims but the model takes at most ${dim}; these stats belong to another dataset`,
      );
    }
  }
  return { file, stats };
}

/**
 * Keys of another pi0 layout (LeRobot's base_model.model.model.…, legacy names) renamed onto ours and
 * the adapter's own adapter_config.json evaluated on our names (planPi0Adapter). When it wraps the
 * config's default modules: the one fit check of the adapter against the built model, then its values.
 * When it wraps others (LeRobot's default: the expert's q_proj/v_proj plus the five projection heads,
 * or modules_to_save copies): the default LoRA is unloaded, the model wrapped as the adapter says and
 * the adapter loaded strictly by lora-core's applyAdapter (missing / unexpected / wrong shape: refused).
 */
async function assignAdapter(
  cfg: TrainConfig,
  built: BuiltPi0,
  adapter: PeftAdapter,
  adapterDir: string,
  log: (line: string) => void,
): Promise<LoadSummary['lora'] & { ownTargets: boolean }> {
  const { policy, pi0 } = built;
  const where = `refusing adapter ${adapterDir} for config ${cfg.name} (${pi0.name})`;
  let plan: Pi0AdapterPlan;
  try {
    plan = planPi0Adapter(adapter, policy);
  } catch (err) {
    throw new AdapterRefusedError(`${where}: ${errText(err)}`, { cause: err });
  }
  if (plan.renamed > 0)
    log(
      `adapter keys: ${plan.renamed} renamed from another pi0 layout (LeRobot's base_model.model.model. / legacy names) onto ours`,
    );
  if (plan.differsFromModel) {
    const heads = plan.targets.filter((n) => !n.includes('.layers.'));
    log(
      `adapter_config.json targets ${plan.targets.length} modules (${heads.join(', ') || 'no heads'}${plan.modulesToSave.length ? `; modules_to_save: ${plan.modulesToSave.join(', ')}` : ''}), not ${cfg.name}'s default: LoRA-wrapped as the adapter says`,
    );
    await unloadLora(policy, { merge: false });
    let loaded: string[];
    try {
      loaded = applyAdapter(adapter, policy, { adapterName: pi0.loraAdapterName, source: adapterDir }).loaded;
    } catch (err) {
      throw new AdapterRefusedError(`${where}: ${errText(err)}`, { cause: err });
    }
    const layers = loraLayers(policy).filter(([, l]) => l.adapterName === pi0.loraAdapterName);
    const ranks: Record<number, number> = {};
    for (const [, l] of layers) ranks[l.r] = (ranks[l.r] ?? 0) + 1;
    let values = 0;
    for (const k of loaded) values += adapter.tensors.get(k)!.shape.reduce((a, b) => a * b, 1);
    return { tensors: loaded.length, values, modules: layers.length, ranks, merged: false, ownTargets: true };
  }
  const layers = loraLayers(policy).filter(([, l]) => l.adapterName === pi0.loraAdapterName);
  let fit: ReturnType<typeof checkAdapterFit>;
  try {
    fit = checkAdapterFit(adapter, layers, pi0.loraAdapterName);
  } catch (err) {
    throw new AdapterRefusedError(`${where}: ${errText(err)}`, { cause: err });
  }
  if (!fit.ok) throw new AdapterRefusedError(`${where}: ${describeAdapterFit(fit, layers.length)}`);
  const lora = new Map(namedParameters(policy).filter(([n]) => isLoraParam(n)));
  const values = assignTrainedWeights(lora, adapter, new Map(), tf, adapterDir);
  const ranks: Record<number, number> = {};
  for (const [, l] of layers) ranks[l.r] = (ranks[l.r] ?? 0) + 1;
  return { tensors: adapter.tensors.size, values, modules: layers.length, ranks, merged: false, ownTargets: false };
}

/** The heads the config trains, from trainable.safetensors (strict: each one, nothing else). */
async function assignHeads(
  cfg: TrainConfig,
  built: BuiltPi0,
  headNames: string[],
  adapterDir: string,
  trainable: string | null | undefined,
): Promise<LoadSummary['heads']> {
  const heads = await readHeads(cfg, headNames, adapterDir, trainable);
  if (!heads) return null;
  const all = new Map(namedParameters(built.policy));
  const vars = new Map(headNames.map((n) => [n, all.get(n)!] as const));
  try {
    const values = assignTrainedWeights(vars, null, heads.tensors, tf, heads.file);
    return { file: heads.file, tensors: heads.tensors.size, values };
  } catch (err) {
    throw new AdapterRefusedError(`refusing trained heads ${heads.file}: ${errText(err)}`, { cause: err });
  }
}

/** Loads and verifies everything; throws AdapterRefusedError / TokenizerRefusedError / BaseWeightsRefusedError / NormStatsRefusedError. */
export async function loadTrainedPi0(o: LoadTrainedPi0Options): Promise<LoadedTrainedPi0> {
  const log = o.log ?? (() => {});
  const cfg = o.config;
  const adapterDir = resolve(o.adapter);
  const { adapter, report, warnings } = await readAdapterFor(cfg, adapterDir, o);
  // the tokenizer the run recorded, before the model is allocated
  let tokenizer: PromptTokenizer;
  try {
    const chosen = await tokenizerForRun(dirname(adapterDir), cfg, o.tokenizer ?? undefined);
    tokenizer = chosen.tokenizer;
    log(chosen.description);
  } catch (err) {
    throw new TokenizerRefusedError(`refusing to serve ${cfg.name}: ${errText(err)}`, { cause: err });
  }
  let built: BuiltPi0;
  try {
    built = await buildPi0(cfg, o.baseWeights ? { baseWeights: resolve(o.baseWeights) } : {});
  } catch (err) {
    throw new BaseWeightsRefusedError(`cannot build ${cfg.model.pi0} for config ${cfg.name}: ${errText(err)}`, {
      cause: err,
    });
  }
  try {
    log(`config ${cfg.name}: ${built.pi0.name}, ${built.inject.count} LoRA-wrapped linear layers`);
    log(`base weights: ${built.weightsFrom}`);
    const { ownTargets, ...lora } = await assignAdapter(cfg, built, adapter, adapterDir, log);
    const counts = { lora, heads: null as LoadSummary['heads'] };
    // an adapter with its own targets (LeRobot's) carries its heads itself (LoRA on them, or
    // modules_to_save): a trained copy of the heads is read only when --trainable names one
    const headNames = trainedHeadsOf(cfg, log);
    if (!ownTargets || o.trainable) counts.heads = await assignHeads(cfg, built, headNames, adapterDir, o.trainable);
    for (const [, v] of namedParameters(built.policy)) v.trainable = false;
    setTraining(built.policy, false);
    const normStats = await findNormStats(cfg, adapterDir, o);
    if (o.merge) {
      const n = await mergeLora(built.policy, { safe: true });
      if (n !== counts.lora.modules)
        throw new AdapterRefusedError(
          `merged ${n} of ${counts.lora.modules} LoRA layers; refusing to serve a half-merged model`,
        );
      counts.lora.merged = true;
    }
    const summary: LoadSummary = {
      config: cfg.name,
      pi0: built.pi0.name,
      base: built.weightsFrom,
      adapterDir,
      ...counts,
      normStats: normStats.file,
      warnings,
      loraLine: `LoRA: ${fmt(counts.lora.tensors)} tensors, ${fmt(counts.lora.values)} values, ${counts.lora.merged ? 'merged' : 'unmerged'}`,
    };
    logSummary(summary, report, normStats.stats, cfg, log);
    const policy = built.policy;
    return {
      trainConfig: cfg,
      pi0: built.pi0,
      policy,
      normStats: normStats.stats,
      tokenizer,
      summary,
      dispose: () => disposeModule(policy),
    };
  } catch (err) {
    disposeModule(built.policy);
    throw err;
  }
}

function logSummary(
  s: LoadSummary,
  report: AdapterReport,
  stats: LiberoNormStats,
  cfg: TrainConfig,
  log: (line: string) => void,
): void {
  const ranks = Object.entries(s.lora.ranks)
    .map(([r, c]) => `r=${r}×${c}`)
    .join(', ');
  log(`${s.loraLine} (${s.lora.modules} modules, ranks ${ranks}; from ${report.weightsFile}, verified)`);
  if (s.heads)
    log(`trained heads: ${s.heads.tensors} tensors, ${fmt(s.heads.values)} values (from ${s.heads.file}, strict)`);
  log(
    `norm stats: ${s.normStats} (state ${stats.state.mean.length} dims, actions ${stats.actions.mean.length} dims${cfg.data.useDeltaActions ? ', delta actions -> absolute' : ''})`,
  );
  for (const w of s.warnings) log(`warning: ${w}`);
}
