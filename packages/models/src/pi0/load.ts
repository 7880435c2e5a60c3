// Loading openpi's PyTorch-layout pi0 `model.safetensors` (PI0Pytorch.save_model: deduplicated
// state dict, bf16 for most of paligemma_with_expert under precision bfloat16) into a Pi0Policy.
import { fromFloat32, openSafetensors, writeSafetensors, type SafetensorsEntry } from '@vla-lora/checkpoint-io';
import { PI0_PATHS } from '@vla-lora/gemma-config';
import { namedParameters } from '@vla-lora/lora-core';
import { loadStateDict, type LoadReport } from '../params/load-state-dict.js';
import { isLoraSpec } from '../params/spec-book.js';
import type { Pi0Policy } from './policy.js';

const EMBED = `${PI0_PATHS.languageModel}.embed_tokens.weight`;
const TIED_HEAD = `${PI0_PATHS.paligemmaLmHead}.weight`;

export interface LoadPi0Options {
  /**
   * LoRA tensors absent from the file keep their values (loading base weights into a wrapped
   * policy). Default true; set false to require an adapter-merged full checkpoint.
   */
  allowMissingLora?: boolean;
}

/**
 * Loads `path` (a file, a directory with model.safetensors, or a sharded index) strictly: every
 * base parameter must be there with the right shape (F32/BF16/F16 converted to float32), and every
 * tensor in the file must land. PaliGemma's tied lm_head may be stored under either name.
 * A LoRA-wrapped policy reads `x.base_layer.weight` from the file's `x.weight`.
 */
export async function loadPi0Weights(policy: Pi0Policy, path: string, opts: LoadPi0Options = {}): Promise<LoadReport> {
  const aliases: Record<string, string[]> = { [EMBED]: [TIED_HEAD] };
  for (const [name] of namedParameters(policy))
    if (name.includes('.base_layer.')) aliases[name] = [name.replace('.base_layer.', '.')];
  const reader = await openSafetensors(path);
  try {
    return await loadStateDict(policy, reader, {
      aliases,
      ignoreUnexpected: (n) => n === TIED_HEAD && reader.has(EMBED),
      allowMissing: (n) => (opts.allowMissingLora ?? true) && isLoraSpec(n),
    });
  } finally {
    await reader.close();
  }
}

/**
 * Writes the policy's parameters as openpi's save_model does (one key per tensor, tied lm_head
 * deduplicated, LoRA-wrapped layers under `.base_layer.` as PEFT names them). dtype: 'F32' or
 * 'BF16' (round-to-nearest-even, as torch's .to(bfloat16)). Atomic (checkpoint-io's writer).
 */
export async function savePi0Weights(
  policy: Pi0Policy,
  path: string,
  opts: { dtype?: 'F32' | 'BF16'; only?: (name: string) => boolean } = {},
): Promise<void> {
  const entries: SafetensorsEntry[] = [];
  for (const [name, v] of namedParameters(policy)) {
    if (opts.only && !opts.only(name)) continue;
    const raw = fromFloat32(v.dataSync() as Float32Array, v.shape, opts.dtype ?? 'F32');
    entries.push({ name, dtype: raw.dtype, shape: raw.shape, data: raw.bytes });
  }
  await writeSafetensors(path, entries, { metadata: { format: 'pt' } });
}
