// Adapter save/load through @vla-lora/checkpoint-io's PEFT format.
//
// Names: our module tree gives `model.layers.0.self_attn.q_proj.lora_A.default.weight`; a PeftModel
// (and checkpoint-io's PeftAdapter) says `base_model.model.` + that. On disk PEFT drops the adapter
// name; checkpoint-io handles that part. modules_to_save parameters are saved under
// `base_model.model.<module>.<param>` as PEFT's get_peft_model_state_dict does.
//
// Loading checks both ways, like torchtune's validate_missing_and_unexpected_for_lora: every LoRA
// (and modules_to_save) parameter of the model must be in the file, every tensor of the file must
// belong to the model, shapes must agree, and the layers' rank/alpha/rsLoRA must equal the config.
// Anything else throws AdapterMismatchError listing the names: never a silent strict=False.
import * as tf from '@tensorflow/tfjs-core';
import {
  fromFloat32,
  loadPeftAdapter,
  savePeftAdapter,
  toFloat32,
  type PeftAdapter,
  type PeftLoraConfig,
  type RawTensor,
} from '@vla-lora/checkpoint-io';
import { namedModules, namedParameters, type Module } from './module.js';
import { loraConfigFromPeft, loraConfigToPeft, loraScaling, type LoraConfig, type PeftConfigJson } from './config.js';
import { injectLora, loraLayers, type InjectReport } from './inject.js';
import { isModuleToSave, rankAndAlphaFor } from './target-match.js';
import { AdapterMismatchError, LoraConfigError } from './errors.js';

/** PEFT's PeftModel prefix in front of the wrapped model's own names. */
export const PEFT_PREFIX = 'base_model.model.';

const size = (shape: number[]): number => shape.reduce((a, b) => a * b, 1);
const same = (a: readonly number[], b: readonly number[]): boolean =>
  a.length === b.length && a.every((d, i) => d === b[i]);

/**
 * The parameters an adapter file holds for this model, under PeftModel names (with the adapter
 * name): every lora_A/lora_B of `adapterName`, plus every parameter of a modules_to_save module.
 */
export function adapterParameters(root: Module, config: LoraConfig, adapterName = 'default'): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  const loraRe = new RegExp(`(^|\\.)lora_[AB]\\.${adapterName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.weight$`);
  for (const [name, v] of namedParameters(root)) {
    const owner = name.slice(0, Math.max(0, name.lastIndexOf('.')));
    if (loraRe.test(name) || (owner !== '' && isModuleToSave(config.modulesToSave, owner)))
      out.set(PEFT_PREFIX + name, v);
  }
  return out;
}

export interface SaveAdapterOptions {
  adapterName?: string;
  /** adapter_config.json `base_model_name_or_path`. */
  baseModelNameOrPath?: string | null;
  /** Extra adapter_config.json fields (e.g. from `loraConfigFromPeft(...).extra`, `task_type`). */
  extra?: PeftConfigJson;
  /** On-disk dtype of the tensors (PEFT saves the parameters' dtype: F32 for fp32 training). */
  dtype?: 'F32' | 'BF16' | 'F16';
}

/**
 * Saves the model's adapter as PEFT's save_pretrained does (adapter_model.safetensors +
 * adapter_config.json), through checkpoint-io. Returns the PeftModel names written.
 */
export async function saveAdapter(
  dir: string,
  root: Module,
  config: LoraConfig,
  opts: SaveAdapterOptions = {},
): Promise<string[]> {
  const adapterName = opts.adapterName ?? 'default';
  const params = adapterParameters(root, config, adapterName);
  const lora = [...params.keys()].filter((k) => /\.lora_[AB]\./.test(k));
  if (lora.length === 0) {
    throw new LoraConfigError(
      `the model has no LoRA parameters for adapter '${adapterName}'; call injectLora first (or pass the adapter name it used)`,
    );
  }
  const tensors = new Map<string, RawTensor>();
  for (const [k, v] of params)
    tensors.set(k, fromFloat32(Float32Array.from((await v.data()) as Float32Array), [...v.shape], opts.dtype ?? 'F32'));
  const json = loraConfigToPeft(config, {
    ...(opts.extra ?? {}),
    ...(opts.baseModelNameOrPath !== undefined ? { base_model_name_or_path: opts.baseModelNameOrPath } : {}),
  });
  const adapter: PeftAdapter = { config: json as PeftLoraConfig, tensors, adapterName };
  await savePeftAdapter(dir, adapter, { adapterName });
  return [...tensors.keys()];
}

export interface LoadAdapterOptions {
  adapterName?: string;
  /**
   * Wrap the targets named by the adapter's config when the model has no LoRA layers for this
   * adapter yet (default true). With false the model must already carry matching LoRA layers.
   */
  inject?: boolean;
}

export interface LoadAdapterReport {
  config: LoraConfig;
  /** adapter_config.json fields we do not model (kept for saving back). */
  extra: PeftConfigJson;
  /** The injection report when layers were created. */
  injected: InjectReport | null;
  /** Tensors loaded (PeftModel names). */
  loaded: string[];
}

/**
 * Loads a PEFT adapter directory into the model: injects LoRA layers per its config (unless
 * present), checks missing / unexpected keys and shapes both ways, then assigns the values.
 */
export async function loadAdapter(
  dir: string,
  root: Module,
  opts: LoadAdapterOptions = {},
): Promise<LoadAdapterReport> {
  const adapterName = opts.adapterName ?? 'default';
  const adapter = await loadPeftAdapter(dir, { adapterName });
  return applyAdapter(adapter, root, { ...opts, adapterName, source: dir });
}

/** `loadAdapter` for an adapter already in memory (e.g. from zero-merge). */
export function applyAdapter(
  adapter: PeftAdapter,
  root: Module,
  opts: LoadAdapterOptions & { source?: string } = {},
): LoadAdapterReport {
  const adapterName = opts.adapterName ?? adapter.adapterName ?? 'default';
  const where = opts.source ?? 'the adapter';
  const { config, extra } = loraConfigFromPeft(adapter.config as PeftConfigJson);
  const present = loraLayers(root).filter(([, l]) => l.adapterName === adapterName);
  let injected: InjectReport | null = null;
  // trainable flags before any injection, restored if the file turns out not to fit
  const flags = namedParameters(root, { removeDuplicate: false }).map(([, v]) => [v, v.trainable] as const);
  if (present.length === 0) {
    if (opts.inject === false)
      throw new AdapterMismatchError(
        `the model has no LoRA layers for adapter '${adapterName}' and inject is false`,
        [],
        [],
        [],
      );
    injected = injectLora(root, config, { adapterName });
  } else {
    // Layers exist: their rank / alpha / rsLoRA must be the adapter's, or the numbers silently differ.
    const bad: string[] = [];
    for (const [name, l] of present) {
      const { r, alpha } = rankAndAlphaFor(config, name);
      if (l.r !== r || l.alpha !== alpha || l.useRslora !== config.useRslora) {
        bad.push(
          `${name}: layer r=${l.r} alpha=${l.alpha} rslora=${l.useRslora}, adapter r=${r} alpha=${alpha} rslora=${config.useRslora} (scaling ${loraScaling(alpha, r, config.useRslora)})`,
        );
      }
    }
    if (bad.length > 0)
      throw new AdapterMismatchError(
        `${where}: the model's LoRA layers do not match the adapter config: ${bad.join('; ')}`,
        [],
        [],
        [],
      );
  }

  const expected = adapterParameters(root, config, adapterName);
  const missing = [...expected.keys()].filter((k) => !adapter.tensors.has(k));
  const unexpected = [...adapter.tensors.keys()].filter((k) => !expected.has(k));
  const shapeMismatches: AdapterMismatchError['shapeMismatches'] = [];
  for (const [k, t] of adapter.tensors) {
    const v = expected.get(k);
    if (v !== undefined && !same(v.shape, t.shape))
      shapeMismatches.push({ name: k, expected: [...v.shape], got: [...t.shape] });
  }
  if (missing.length + unexpected.length + shapeMismatches.length > 0) {
    const list = (a: string[]): string =>
      `${a.slice(0, 12).join(', ')}${a.length > 12 ? ` … (${a.length} in all)` : ''}`;
    const parts: string[] = [];
    if (missing.length) parts.push(`missing in the file (${missing.length}): ${list(missing)}`);
    if (unexpected.length) parts.push(`not in the model (${unexpected.length}): ${list(unexpected)}`);
    if (shapeMismatches.length)
      parts.push(
        `shape mismatches (${shapeMismatches.length}): ${shapeMismatches
          .slice(0, 12)
          .map((s) => `${s.name} model [${s.expected.join(', ')}] file [${s.got.join(', ')}]`)
          .join(', ')}`,
      );
    // undo an injection we made so the model is left as it was
    if (injected !== null) {
      undoInjection(root, injected);
      for (const [v, t] of flags) v.trainable = t;
    }
    throw new AdapterMismatchError(
      `${where} does not fit the model: ${parts.join('; ')}. Check that the base model and target_modules are the ones the adapter was trained with (names are PeftModel names, '${PEFT_PREFIX}' + the model's own).`,
      missing,
      unexpected,
      shapeMismatches,
    );
  }
  const loaded: string[] = [];
  for (const [k, t] of adapter.tensors) {
    const v = expected.get(k)!;
    const data = toFloat32(t);
    if (data.length !== size(v.shape))
      throw new AdapterMismatchError(`${k}: ${data.length} values for shape [${v.shape.join(', ')}]`, [], [], []);
    const tt = tf.tensor(data, v.shape, 'float32');
    v.assign(tt);
    tt.dispose();
    loaded.push(k);
  }
  return { config, extra, injected, loaded };
}

function undoInjection(root: Module, rep: InjectReport): void {
  const byName = new Map(namedModules(root));
  for (const w of rep.wrapped) {
    const l = byName.get(w.name);
    if (l !== undefined && 'baseLayer' in l) {
      const lora = l as unknown as { baseLayer: Module; loraA: tf.Variable; loraB: tf.Variable };
      lora.loraA.dispose();
      lora.loraB.dispose();
      const dot = w.name.lastIndexOf('.');
      const parent = dot < 0 ? root : byName.get(w.name.slice(0, dot))!;
      parent.setChild(w.name.slice(dot + 1), lora.baseLayer);
    }
  }
}
