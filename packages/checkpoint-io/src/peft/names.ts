// State-dict key naming, exactly as PEFT's save_and_load.py does it (LoRA):
//  on disk  base_model.model.<module>.lora_A.weight         (adapter name removed)
//  memory   base_model.model.<module>.lora_A.<adapter>.weight

/** PEFT's get_peft_model_state_dict → remove_adapter_name (plus the DoRA ".weight" rename). */
export function removeAdapterName(key: string, adapterName: string): string {
  if (!key.includes('.')) return key;
  // DoRA: lora_magnitude_vector.<adapter>.weight is saved as lora_magnitude_vector
  const dora = `lora_magnitude_vector.${adapterName}.weight`;
  if (key.endsWith(dora)) key = key.slice(0, -'.weight'.length);
  if (key.endsWith(`.${adapterName}`)) return key.slice(0, -(adapterName.length + 1));
  const dot = key.lastIndexOf('.');
  let head = key.slice(0, dot);
  const suffix = key.slice(dot + 1);
  if (head.endsWith(`.${adapterName}`)) head = head.slice(0, -(adapterName.length + 1));
  return `${head}.${suffix}`;
}

/** PEFT's _insert_adapter_name_into_state_dict with parameter prefix "lora_" (plus DoRA's ".weight"). */
export function insertAdapterName(key: string, adapterName: string, parameterPrefix = 'lora_'): string {
  const at = key.lastIndexOf(parameterPrefix);
  if (at < 0) return key;
  const suffix = key.slice(at + parameterPrefix.length);
  let out: string;
  if (suffix.includes('.')) {
    const toReplace = suffix.split('.').slice(1).join('.');
    // a longer suffix means "lora_" matched a module name (e.g. lora_head.weight): leave it alone
    if (toReplace.includes('.')) return key;
    out = `${key.slice(0, key.length - toReplace.length)}${adapterName}.${toReplace}`;
  } else {
    out = `${key}.${adapterName}`;
  }
  if (out.endsWith(`lora_magnitude_vector.${adapterName}`)) out = `${out}.weight`;
  return out;
}

/** Which part of a LoRA pair a key is, and the module it belongs to (adapter name already removed). */
export interface LoraKeyParts {
  /** Module path as in the state dict, e.g. base_model.model.model.layers.0.self_attn.q_proj */
  module: string;
  role: 'A' | 'B' | 'embedding_A' | 'embedding_B' | 'magnitude' | 'bias';
}

const LORA_KEY = /^(.*)\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)(?:\.weight)?$/;

/** Parses an on-disk key; null for keys that are not LoRA parameters (modules_to_save, biases …). */
export function parseLoraKey(key: string): LoraKeyParts | null {
  const m = LORA_KEY.exec(key);
  if (!m) {
    const bias = /^(.*)\.lora_B\.bias$/.exec(key);
    return bias ? { module: bias[1]!, role: 'bias' } : null;
  }
  const kind = m[2]!;
  const role =
    kind === 'lora_A'
      ? 'A'
      : kind === 'lora_B'
        ? 'B'
        : kind === 'lora_embedding_A'
          ? 'embedding_A'
          : kind === 'lora_embedding_B'
            ? 'embedding_B'
            : 'magnitude';
  return { module: m[1]!, role };
}

/** The module path relative to the wrapped model (drops PEFT's "base_model.model." prefix). */
export function relativeModulePath(module: string): string {
  return module.startsWith('base_model.model.') ? module.slice('base_model.model.'.length) : module;
}
