// Builds the pi0 policy a train config names and loads base weights, the LoRA adapter and the
// trained heads into it, refusing anything it cannot verify. The order is the training recipe's
// (trainer's buildPi0: same config registry, same model, same LoRA injection), then:
//   1. checkpoint-io's verifyAdapter on the adapter directory (placeholder files, unpaired A/B,
//      ranks vs adapter_config.json, NaN/Inf, targets without weights);
//   2. an all-zero lora_B everywhere (an untrained adapter) is refused unless explicitly allowed;
//   3. the strict key check of adapter-fit.ts, then lora-core's applyAdapter WITHOUT injection: the model's LoRA layers (built from the config)
//      must have the adapter's rank/alpha, every file tensor must belong to a wrapped module and
//      every wrapped module must get its tensors, with matching shapes;
//   4. a coverage re-check here: every wrapped module got both A and B from the file, and the values
//      loaded equal the values verifyAdapter counted;
//   5. the trained non-LoRA weights (the projection heads, trainable.safetensors) through trainer's
//      strict assignTrainedWeights: every parameter the config trains is in the file, nothing else;
//   6. norm stats that fit the model.
// Any failure throws; there is no fallback.
import { access, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  loadPeftAdapter,
  openSafetensors,
  verifyAdapter,
  type AdapterReport,
  type F32Tensor,
} from '@vla-lora/checkpoint-io';
import { loadNormStats, type LiberoNormStats } from '@vla-lora/lerobot-data';
import {
  applyAdapter,
  disposeModule,
  loraLayers,
  mergeLora,
  namedParameters,
  PEFT_PREFIX,
  setTraining,
} from '@vla-lora/lora-core';
import type { Pi0Policy } from '@vla-lora/models';
import {
  buildPi0,
  checkAdapterFit,
  describeAdapterFit,
  freezePolicyFor,
  freezeWithPolicy,
  getTrainConfig,
  normStatsPath,
  type PromptTokenizer,
  remapPi0AdapterLayout,
  type TrainConfig,
  tokenizerForRun,
} from '@vla-lora/pi0';
import { assignTrainedWeights, isLoraParam, type TrainLogger } from '@vla-lora/trainer';
import {
  AdapterRefusedError,
  BaseWeightsRefusedError,
  NormStatsRefusedError,
  ServeUsageError,
  TokenizerRefusedError,
} from './errors.js';

export interface LoadPolicyOptions {
  /** A train config name of @vla-lora/pi0's registry (e.g. pi0_libero_lora_tiny). */
  config: string;
  /** openpi PyTorch-layout weights: a model.safetensors file or a directory holding one. */
  baseWeights?: string | null;
  /**
   * Use the config's seeded random init as the base, exactly as `vla-train` builds it when run
   * without --base-weights (the tiny demo configs). The adapter's base_model_name_or_path must say so.
   */
  seededBase?: boolean;
  /** PEFT adapter directory (adapter_config.json + adapter_model.safetensors). */
  adapter: string;
  /** The trained non-LoRA weights (heads); default: trainable.safetensors in the adapter dir or its parent (the run dir). */
  trainable?: string | null;
  /** openpi norm_stats.json (file or dir); default: next to the adapter, the run dir, then the config's dataset under dataRoot. */
  normStats?: string | null;
  /** Data root the trainer used (default `data`, as vla-train), only to find the norm stats. */
  dataRoot?: string;
  /** Fold B·A·scaling into the base weights (faster per request; same outputs). */
  merge?: boolean;
  /** Serve an adapter whose every lora_B is zero (it changes nothing). Off by default. */
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

export interface LoadedPolicy {
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

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );
type Pi0Config = Pi0Policy['config'];

const fmt = (n: number): string => n.toLocaleString('en-US');
const errText = (e: unknown): string => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

async function firstExisting(paths: string[]): Promise<string | null> {
  for (const p of paths) if (await exists(p)) return p;
  return null;
}

/** Loads and verifies everything; throws a typed ServeError (with the library error as cause) on any mismatch. */
export async function loadPolicy(o: LoadPolicyOptions): Promise<LoadedPolicy> {
  const log = o.log ?? (() => {});
  let cfg: TrainConfig;
  try {
    cfg = getTrainConfig(o.config);
  } catch (err) {
    throw new ServeUsageError(errText(err).replace(/^\w+: /, ''), { cause: err });
  }
  if (!o.baseWeights && !o.seededBase) {
    throw new ServeUsageError(
      'say which base model the adapter applies to: --base-weights DIR (openpi PyTorch-layout model.safetensors), or --seeded-base for a run trained without --base-weights',
    );
  }
  if (o.baseWeights && o.seededBase) throw new ServeUsageError('--base-weights and --seeded-base exclude each other');
  const adapterDir = resolve(o.adapter);
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

  // 1. the adapter on its own
  let report: AdapterReport;
  try {
    report = await verifyAdapter(adapterDir);
  } catch (err) {
    throw new AdapterRefusedError(`refusing adapter ${adapterDir}: ${errText(err)}`, { cause: err });
  }
  const warnings = [...report.warnings];
  // 2. untrained
  if (report.modules > 0 && report.zeroBModules.length === report.modules && !o.allowUntrained) {
    throw new AdapterRefusedError(
      `refusing adapter ${adapterDir}: every lora_B (${report.modules} modules) is all zero, so the adapter is a fresh initialisation and changes nothing; serve the trained adapter (or pass --allow-untrained-adapter to serve the base model on purpose)`,
    );
  }
  const baseName = (report.config as { base_model_name_or_path?: unknown }).base_model_name_or_path;
  const seededName = `vla-lora:${cfg.model.pi0}:seed${cfg.trainer.seed}`;
  if (o.seededBase && baseName !== seededName) {
    throw new AdapterRefusedError(
      `refusing adapter ${adapterDir}: --seeded-base builds ${seededName}, but the adapter was trained on ${JSON.stringify(baseName ?? null)}; pass that model with --base-weights`,
    );
  }

  // the tokenizer the run recorded, before the model is allocated
  let tokenizer: PromptTokenizer;
  try {
    const chosen = await tokenizerForRun(dirname(adapterDir), cfg, o.tokenizer ?? undefined);
    tokenizer = chosen.tokenizer;
    log(chosen.description);
  } catch (err) {
    throw new TokenizerRefusedError(`refusing to serve ${cfg.name}: ${errText(err)}`, { cause: err });
  }

  // the model, as training built it
  let built: Awaited<ReturnType<typeof buildPi0>>;
  try {
    built = await buildPi0(cfg, o.baseWeights ? { baseWeights: resolve(o.baseWeights) } : {});
  } catch (err) {
    throw new BaseWeightsRefusedError(`cannot build ${cfg.model.pi0} for config ${cfg.name}: ${errText(err)}`, {
      cause: err,
    });
  }
  const policy = built.policy;
  try {
    log(`config ${cfg.name}: ${built.pi0.name}, ${built.inject.count} LoRA-wrapped linear layers`);
    log(`base weights: ${built.weightsFrom}`);
    if (o.baseWeights && typeof baseName === 'string' && baseName.startsWith('vla-lora:')) {
      warnings.push(
        `the adapter was trained on the seeded base ${baseName} but --base-weights ${o.baseWeights} was given`,
      );
    }

    // 3. the adapter against the model
    const adapterName = built.pi0.loraAdapterName;
    let loaded: string[];
    try {
      const adapter = await loadPeftAdapter(adapterDir, { adapterName });
      const remapped = remapPi0AdapterLayout(adapter);
      if (remapped > 0)
        log(
          `adapter keys: ${remapped} renamed from another pi0 layout (LeRobot's base_model.model.model. / legacy names) onto ours`,
        );
      const modelLayers = loraLayers(policy).filter(([, l]) => l.adapterName === adapterName);
      const fit = checkAdapterFit(adapter, modelLayers, adapterName);
      if (!fit.ok) {
        throw new AdapterRefusedError(
          `refusing adapter ${adapterDir} for config ${cfg.name} (${built.pi0.name}): ${describeAdapterFit(fit, modelLayers.length)}`,
        );
      }
      loaded = applyAdapter(adapter, policy, { inject: false, adapterName, source: adapterDir }).loaded;
    } catch (err) {
      if (err instanceof AdapterRefusedError) throw err;
      throw new AdapterRefusedError(
        `refusing adapter ${adapterDir} for config ${cfg.name} (${built.pi0.name}): ${errText(err)}`,
        { cause: err },
      );
    }

    // 4. coverage, counted from what was loaded
    const loadedSet = new Set(loaded);
    const layers = loraLayers(policy).filter(([, l]) => l.adapterName === adapterName);
    const uncovered: string[] = [];
    let values = 0;
    for (const [name, layer] of layers) {
      for (const ab of ['lora_A', 'lora_B'] as const) {
        const key = `${PEFT_PREFIX}${name}.${ab}.${adapterName}.weight`;
        if (!loadedSet.has(key)) uncovered.push(key);
      }
      values += layer.r * (layer.inFeatures + layer.outFeatures);
    }
    if (uncovered.length > 0 || loaded.length !== 2 * layers.length || values !== report.loraValues) {
      throw new AdapterRefusedError(
        `refusing adapter ${adapterDir}: after loading, ${uncovered.length} LoRA tensor(s) of the model were not set from the file (${uncovered.slice(0, 4).join(', ')}), ${loaded.length} tensors loaded for ${layers.length} wrapped modules, ${values} values in the model vs ${report.loraValues} in the file`,
      );
    }

    // 5. the trained heads
    const all = new Map(namedParameters(policy));
    // the training recipe's freeze step says which parameters were trained (and logs what is frozen)
    const trainLog: TrainLogger = { info: (m) => log(m), warn: (m) => log(`warning: ${m}`), step() {}, close() {} };
    freezeWithPolicy(all, freezePolicyFor(cfg), trainLog);
    const heads = new Map([...all].filter(([n, v]) => v.trainable && !isLoraParam(n)));
    let headsSummary: LoadSummary['heads'] = null;
    if (heads.size > 0) {
      const candidates = o.trainable
        ? [resolve(o.trainable)]
        : [join(adapterDir, 'trainable.safetensors'), join(dirname(adapterDir), 'trainable.safetensors')];
      const file = await firstExisting(candidates);
      if (file === null) {
        throw new AdapterRefusedError(
          `config ${cfg.name} trains ${heads.size} non-LoRA tensors (${[...heads.keys()].slice(0, 3).join(', ')}${heads.size > 3 ? ', …' : ''}) but no trained copy was found (looked for ${candidates.join(', ')}); serving the base values would serve an untrained head — pass --trainable <run>/trainable.safetensors`,
        );
      }
      const tensors = new Map<string, F32Tensor>();
      const reader = await openSafetensors(file);
      try {
        for (const t of reader.list())
          tensors.set(t.name, { shape: [...t.shape], data: await reader.readFloat32(t.name) });
      } finally {
        await reader.close();
      }
      let headValues: number;
      try {
        headValues = assignTrainedWeights(heads, null, tensors, tf, file);
      } catch (err) {
        throw new AdapterRefusedError(`refusing trained heads ${file}: ${errText(err)}`, { cause: err });
      }
      headsSummary = { file, tensors: tensors.size, values: headValues };
    }
    for (const [, v] of all) v.trainable = false;
    setTraining(policy, false);

    // 6. norm stats
    const nsCandidates = o.normStats
      ? [resolve(o.normStats)]
      : [
          join(adapterDir, 'norm_stats.json'),
          join(dirname(adapterDir), 'norm_stats.json'),
          normStatsPath(cfg, o.dataRoot ?? 'data'),
        ];
    const nsFile = await firstExisting(nsCandidates);
    if (nsFile === null) {
      throw new NormStatsRefusedError(
        `no norm stats found (looked for ${nsCandidates.join(', ')}); actions cannot be returned in robot units without the statistics the model was trained with: pass --norm-stats <dataset>/norm_stats.json (vla-train compute-norm-stats ${cfg.name} writes it)`,
      );
    }
    let normStats: LiberoNormStats;
    try {
      normStats = await loadNormStats(nsFile);
    } catch (err) {
      throw new NormStatsRefusedError(`cannot use norm stats ${nsFile}: ${errText(err)}`, { cause: err });
    }
    for (const k of ['state', 'actions'] as const) {
      if (normStats[k].mean.length > built.pi0.actionDim) {
        throw new NormStatsRefusedError(
          `${nsFile}: norm_stats.${k} has ${normStats[k].mean.length} dims but the model takes at most ${built.pi0.actionDim}; these stats belong to another dataset`,
        );
      }
    }

    // merge last: the checks above ran on the unmerged layers
    let merged = false;
    if (o.merge) {
      const n = await mergeLora(policy, { safe: true });
      if (n !== layers.length)
        throw new AdapterRefusedError(
          `merged ${n} of ${layers.length} LoRA layers; refusing to serve a half-merged model`,
        );
      merged = true;
    }
    const ranks: Record<number, number> = {};
    for (const [, l] of layers) ranks[l.r] = (ranks[l.r] ?? 0) + 1;
    const loraLine = `LoRA: ${fmt(loaded.length)} tensors, ${fmt(values)} values, ${merged ? 'merged' : 'unmerged'}`;
    log(
      `${loraLine} (${layers.length} modules, ranks ${Object.entries(ranks)
        .map(([r, c]) => `r=${r}×${c}`)
        .join(', ')}; from ${report.weightsFile}, verified)`,
    );
    if (headsSummary)
      log(
        `trained heads: ${headsSummary.tensors} tensors, ${fmt(headsSummary.values)} values (from ${headsSummary.file}, strict)`,
      );
    log(
      `norm stats: ${nsFile} (state ${normStats.state.mean.length} dims, actions ${normStats.actions.mean.length} dims${cfg.data.useDeltaActions ? ', delta actions -> absolute' : ''})`,
    );
    for (const w of warnings) log(`warning: ${w}`);

    return {
      trainConfig: cfg,
      pi0: built.pi0,
      policy,
      normStats,
      tokenizer,
      summary: {
        config: cfg.name,
        pi0: built.pi0.name,
        base: built.weightsFrom,
        adapterDir,
        lora: { tensors: loaded.length, values, modules: layers.length, ranks, merged },
        heads: headsSummary,
        normStats: nsFile,
        warnings,
        loraLine,
      },
      dispose: () => disposeModule(policy),
    };
  } catch (err) {
    disposeModule(policy);
    throw err;
  }
}
