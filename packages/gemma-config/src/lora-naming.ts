import { InvalidConfigError } from './errors.js';

/**
 * LoRA parameter naming. This project's specs use PEFT's names
 * (`X.base_layer.weight`, `X.lora_A.<adapter>.weight`, `X.lora_B.<adapter>.weight`). openpi's own
 * PyTorch LoRA (`models_pytorch/lora.py`, `LoRALinear`) names the same tensors `X.base.weight`,
 * `X.lora_a`, `X.lora_b` (same shapes: A [r, in], B [out, r]). These map one to the other.
 */
export function peftToOpenpiLoraPath(path: string): string {
  const parts = path.split('.');
  const i = parts.findIndex((p) => p === 'lora_A' || p === 'lora_B');
  if (i >= 0) {
    if (parts.length !== i + 3 || parts[i + 2] !== 'weight') {
      throw new InvalidConfigError(
        `"${path}" is not a PEFT LoRA weight path (expected <module>.lora_A|lora_B.<adapter>.weight).`,
      );
    }
    return [...parts.slice(0, i), parts[i] === 'lora_A' ? 'lora_a' : 'lora_b'].join('.');
  }
  const b = parts.indexOf('base_layer');
  if (b >= 0) parts[b] = 'base';
  return parts.join('.');
}

/** The inverse of `peftToOpenpiLoraPath` (adapter name: PEFT's `default` unless given). */
export function openpiToPeftLoraPath(path: string, adapterName = 'default'): string {
  const parts = path.split('.');
  const last = parts[parts.length - 1];
  if (last === 'lora_a' || last === 'lora_b') {
    return [...parts.slice(0, -1), last === 'lora_a' ? 'lora_A' : 'lora_B', adapterName, 'weight'].join('.');
  }
  const b = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  if (b === 'base' && (last === 'weight' || last === 'bias')) parts[parts.length - 2] = 'base_layer';
  return parts.join('.');
}
