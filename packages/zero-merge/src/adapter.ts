// extract-adapter: the real PEFT adapter out of a ZeRO checkpoint (the fix for the 40-byte
// adapter_model.safetensors a ZeRO-3 trainer leaves behind). LoRA tensors are gathered like any
// other parameter, renamed to PEFT's on-disk names, written with adapter_config.json into a temp
// directory, verified with checkpoint-io's verifyAdapter, and only then renamed into place.
import { join, resolve } from 'node:path';
import {
  ADAPTER_CONFIG_NAME,
  checkLoraConfig,
  chooseAdapterName,
  draftAdapterConfig,
  freshOutputPath,
  isFile,
  parseLoraParam,
  parsePyJson,
  readAdapterConfig,
  removeAdapterName,
  writeVerifiedAdapter,
  type AdapterConfigFlags,
  type AdapterReport,
  type ExtractedAdapter,
  type LoraParam,
  type PeftLoraConfig,
} from '@vla-lora/checkpoint-io';
import { readFile } from 'node:fs/promises';
import { openZeroCheckpoint } from './checkpoint.js';
import { toEntries } from './consolidate.js';
import type { OutputDtype } from './dtypes.js';
import { AdapterConfigError, NoLoraTensorsError, OutputExistsError, ZeroMergeUsageError } from './errors.js';
import { containsModule } from './filter.js';
import type { ProgressListener } from './progress.js';
import { reconstruct, type ReconstructedTensor } from './reconstruct.js';

// LoRA parameter names (<module>.<lora_X>.<adapter>[.weight|.bias]) are parsed by checkpoint-io's peft module,
// shared with dcp-merge; re-exported as part of zero-merge's API.
export { parseLoraParam, type LoraParam };

export interface ExtractAdapterOptions extends AdapterConfigFlags {
  tag?: string;
  /** Adapter name inside the parameter names (default: "default", or the only one present). */
  adapterName?: string;
  /** adapter_config.json to use (default: the one in the checkpoint dir). */
  configPath?: string;
  /** Module paths (segment globs) of trained heads to save with the adapter (PEFT's modules_to_save). */
  modulesToSave?: string[];
  /** dtype of the written tensors ('keep' = fp32 as reconstructed). */
  dtype?: OutputDtype;
  overwrite?: boolean;
  onProgress?: ProgressListener;
  windowBytes?: number;
}

export interface ExtractAdapterResult extends ExtractedAdapter {
  /** modules_to_save tensors written. */
  extraTensors: number;
}

async function loadConfig(
  checkpointDir: string,
  opts: ExtractAdapterOptions,
): Promise<{ config: Record<string, unknown> | null; source: string }> {
  if (opts.configPath) {
    const p = resolve(opts.configPath);
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch (err) {
      throw new AdapterConfigError(`could not read adapter config ${p}: ${(err as Error).message}`, { cause: err });
    }
    try {
      return { config: parsePyJson(text) as Record<string, unknown>, source: p };
    } catch (err) {
      throw new AdapterConfigError(`${p} is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  if (await isFile(join(checkpointDir, ADAPTER_CONFIG_NAME))) {
    return {
      config: (await readAdapterConfig(checkpointDir)) as Record<string, unknown>,
      source: join(checkpointDir, ADAPTER_CONFIG_NAME),
    };
  }
  return { config: null, source: 'flags' };
}

function buildConfig(
  found: Record<string, unknown> | null,
  opts: ExtractAdapterOptions,
  lora: ReconstructedTensor[],
  where: string,
): PeftLoraConfig {
  const c = draftAdapterConfig(found, opts, lora);
  if (c['lora_alpha'] === undefined) {
    throw new AdapterConfigError(
      `no adapter_config.json in ${where} and no --lora-alpha: the LoRA scaling (lora_alpha / r) cannot be read from the weights — pass --config <adapter_config.json> or --lora-alpha <n> (and --r, --target-modules if they differ from the weights)`,
    );
  }
  if (opts.modulesToSave && opts.modulesToSave.length > 0) {
    const prev = Array.isArray(c['modules_to_save']) ? (c['modules_to_save'] as string[]) : [];
    c['modules_to_save'] = [...new Set([...prev, ...opts.modulesToSave])];
  }
  c['inference_mode'] = true;
  try {
    return checkLoraConfig(c, found ? where : 'flags');
  } catch (err) {
    throw new AdapterConfigError(`adapter config is not usable: ${(err as Error).message}`, { cause: err });
  }
}

/** On-disk name of a modules_to_save tensor, as PEFT's get_peft_model_state_dict writes it. */
function moduleToSaveDiskName(name: string, adapterName: string): string | null {
  if (name.includes('.original_module.')) return null;
  return name.replace(`.modules_to_save.${adapterName}.`, '.');
}

/**
 * Writes a PEFT adapter directory (adapter_model.safetensors + adapter_config.json) recovered from
 * the ZeRO checkpoint, verifies it, and moves it into `outDir` only if verification passed.
 */
export async function extractAdapter(
  checkpoint: string,
  outDir: string,
  opts: ExtractAdapterOptions = {},
): Promise<ExtractAdapterResult> {
  const out = await freshOutputPath(outDir, opts.overwrite, (m) => new OutputExistsError(m));
  const ck = await openZeroCheckpoint(checkpoint, opts.tag !== undefined ? { tag: opts.tag } : {});
  try {
    const rec = reconstruct(ck, opts.windowBytes ? { windowBytes: opts.windowBytes } : {});
    const params = rec.tensors.filter((t) => t.kind === 'trainable' || t.kind === 'frozen');
    const loraAll = params
      .map((t) => ({ t, p: parseLoraParam(t.name) }))
      .filter((x): x is { t: ReconstructedTensor; p: LoraParam } => x.p !== null);
    const names = [...new Set(loraAll.map((x) => x.p.adapterName))].sort();
    if (loraAll.length === 0) {
      throw new NoLoraTensorsError(
        `${ck.location.tagDir} holds ${rec.counts.trainable.count} trainable and ${rec.counts.frozen.count} frozen parameters but none is a LoRA parameter (<module>.lora_A.<adapter>.weight …); it is not a PEFT LoRA run — use \`zero-merge <ckpt> <out>\` for the full weights`,
      );
    }
    const choice = chooseAdapterName(names, opts.adapterName);
    if (!choice.ok)
      throw choice.reason === 'ambiguous'
        ? new ZeroMergeUsageError(choice.message)
        : new NoLoraTensorsError(choice.message);
    const { adapterName } = choice;
    const lora = loraAll.filter((x) => x.p.adapterName === adapterName).map((x) => x.t);
    const frozenLora = lora.filter((t) => t.kind === 'frozen');

    const extras: Array<{ t: ReconstructedTensor; disk: string }> = [];
    const patterns = opts.modulesToSave ?? [];
    if (patterns.length > 0) {
      const loraNames = new Set(loraAll.map((x) => x.t.name));
      for (const t of rec.tensors) {
        if (loraNames.has(t.name) || !patterns.some((p) => containsModule(t.name, p))) continue;
        const disk = moduleToSaveDiskName(t.name, adapterName);
        if (disk !== null) extras.push({ t, disk });
      }
      const unmatched = patterns.filter((p) => !rec.tensors.some((t) => containsModule(t.name, p)));
      if (unmatched.length > 0)
        throw new ZeroMergeUsageError(`--modules-to-save ${unmatched.join(', ')} matches no tensor of the checkpoint`);
    }

    const { config: found, source } = await loadConfig(ck.location.checkpointDir, opts);
    const config = buildConfig(found, opts, lora, ck.location.checkpointDir);

    const dtype = opts.dtype ?? 'keep';
    const renamed = [
      ...lora.map((t) => ({ ...t, name: removeAdapterName(t.name, adapterName) })),
      ...extras.map(({ t, disk }) => ({ ...t, name: disk })),
    ];
    const seen = new Map<string, string>();
    for (const [i, t] of renamed.entries()) {
      const orig = i < lora.length ? lora[i]!.name : extras[i - lora.length]!.t.name;
      const prev = seen.get(t.name);
      if (prev !== undefined)
        throw new ZeroMergeUsageError(`${prev} and ${orig} would both be saved as ${t.name}; narrow --modules-to-save`);
      seen.set(t.name, orig);
    }
    const entries = toEntries(renamed, dtype, opts.onProgress);
    const report = await writeVerifiedAdapter(out, entries, config, { replace: opts.overwrite ?? false });
    const fixedReport: AdapterReport = { ...report };
    if (frozenLora.length > 0)
      fixedReport.warnings = [
        ...report.warnings,
        `${frozenLora.length} LoRA tensor(s) were frozen in this run (e.g. ${frozenLora[0]!.name}); they are written as saved, in ${frozenLora[0]!.dtype}`,
      ];
    return {
      output: out,
      adapterName,
      loraTensors: lora.length,
      loraValues: lora.reduce((a, t) => a + t.numel, 0),
      extraTensors: extras.length,
      configSource: source,
      report: fixedReport,
    };
  } finally {
    await ck.close();
  }
}
