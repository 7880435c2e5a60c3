// PEFT adapter directories: load and save exactly as PEFT's save_pretrained / from_pretrained.
import { join } from 'node:path';
import { checkRawTensor } from '../dtype/convert.js';
import { numel, type RawTensor } from '../dtype/dtypes.js';
import { mkdir } from 'node:fs/promises';
import { writeSafetensors } from '../safetensors/writer.js';
import type { PeftLoraConfig } from './config.js';
import { readAdapterConfig, writeAdapterConfig } from './config-fs.js';
import { AdapterSaveError } from './errors.js';
import { insertAdapterName, removeAdapterName } from './names.js';
import { placeholderError, zeroElementError } from './zero-hint-fs.js';
import { ADAPTER_SAFETENSORS_NAME, openAdapterWeights } from './weights.js';

/** A LoRA adapter in memory: PEFT's config and its tensors under the names a PeftModel uses. */
export interface PeftAdapter {
  config: PeftLoraConfig;
  /** Keys WITH the adapter name, e.g. "base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight". */
  tensors: Map<string, RawTensor>;
  /** The adapter name inside the keys ("default" unless chosen otherwise). */
  adapterName?: string;
}

/**
 * Loads `adapter_config.json` + `adapter_model.safetensors` (or `.bin`). Keys get the adapter name
 * inserted as PEFT's set_peft_model_state_dict does. An adapter without tensors (the ZeRO-3
 * placeholder) or with zero-element tensors throws: loading it would silently leave LoRA random.
 */
export async function loadPeftAdapter(dir: string, opts: { adapterName?: string } = {}): Promise<PeftAdapter> {
  const adapterName = opts.adapterName ?? 'default';
  const config = await readAdapterConfig(dir);
  const w = await openAdapterWeights(dir);
  try {
    if (w.names.length === 0) throw await placeholderError(dir, w.path);
    if (w.emptyNames.length > 0) throw await zeroElementError(dir, w.path, w.emptyNames);
    const tensors = new Map<string, RawTensor>();
    for await (const [k, t] of w.tensors()) tensors.set(insertAdapterName(k, adapterName), t);
    return { config, tensors, adapterName };
  } finally {
    await w.close();
  }
}

/**
 * Saves like PEFT's save_pretrained: adapter_model.safetensors (keys without the adapter name,
 * metadata {"format": "pt"}, Rust layout) and adapter_config.json (indent 2, sorted keys). Each
 * file is written atomically. Refuses an empty adapter, zero-element tensors and key collisions.
 */
export async function savePeftAdapter(
  dir: string,
  adapter: PeftAdapter,
  opts: { adapterName?: string } = {},
): Promise<void> {
  const adapterName = opts.adapterName ?? adapter.adapterName ?? 'default';
  if (adapter.tensors.size === 0) {
    throw new AdapterSaveError(
      dir,
      `refusing to save an adapter with no tensors to ${dir}: it would be the empty placeholder that loads as random LoRA`,
    );
  }
  const entries = [];
  const seen = new Map<string, string>();
  for (const [key, t] of adapter.tensors) {
    checkRawTensor(t, key);
    if (numel(t.shape) === 0)
      throw new AdapterSaveError(
        dir,
        `tensor ${key} has zero elements (shape ${JSON.stringify(t.shape)}); under ZeRO-3 gather parameters before saving`,
      );
    const diskKey = removeAdapterName(key, adapterName);
    const prev = seen.get(diskKey);
    if (prev !== undefined)
      throw new AdapterSaveError(dir, `${prev} and ${key} both become ${diskKey} on disk; save one adapter at a time`);
    seen.set(diskKey, key);
    entries.push({ name: diskKey, dtype: t.dtype, shape: t.shape, data: t.bytes });
  }
  await mkdir(dir, { recursive: true });
  await writeSafetensors(join(dir, ADAPTER_SAFETENSORS_NAME), entries, { metadata: { format: 'pt' } });
  await writeAdapterConfig(dir, adapter.config);
}
