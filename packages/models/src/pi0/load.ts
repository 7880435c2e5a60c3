// Loading openpi's PyTorch-layout pi0 `model.safetensors` (PI0Pytorch.save_model: deduplicated
// state dict, bf16 for most of paligemma_with_expert under precision bfloat16) into a Pi0Policy.
import { fromFloat32, openSafetensors, writeSafetensors, type SafetensorsEntry } from '@vla-lora/checkpoint-io';
import { namedParameters } from '@vla-lora/lora-core';
import { loadStateDict, type LoadReport } from '../params/load-state-dict.js';
import { isLoraSpec } from '../params/spec-book.js';
import { describePi0Layout, mapPi0Layout, PI0_EMBED_KEY, PI0_TIED_HEAD_KEY, type Pi0LayoutMapping } from './layout.js';
import type { Pi0Policy } from './policy.js';

export interface LoadPi0Options {
  /**
   * LoRA tensors absent from the file keep their values (loading base weights into a wrapped
   * policy). Default true; set false to require an adapter-merged full checkpoint.
   */
  allowMissingLora?: boolean;
  /** Called with one line saying which layout was detected and what was renamed/tied/ignored, before loading. */
  onLayout?: (description: string, mapping: Pi0LayoutMapping) => void;
}

export interface Pi0LoadReport extends LoadReport {
  layout: Pi0LayoutMapping;
  /** describePi0Layout(layout). */
  layoutDescription: string;
}

/**
 * Loads `path` (a file, a directory with model.safetensors, or a sharded index) strictly: every
 * base parameter must be there with the right shape (F32/BF16/F16 converted to float32), and every
 * tensor in the file must land. The layout is detected (openpi / lerobot/pi0_base, LeRobot's
 * `model.`-prefixed policy state dict, the older lerobot/pi0 names: see layout.ts), renamed onto
 * ours and reported; PaliGemma's tied embedding is read from embed_tokens or lm_head, whichever
 * the file holds. A LoRA-wrapped policy reads `x.base_layer.weight` from the file's `x.weight`.
 */
export async function loadPi0Weights(
  policy: Pi0Policy,
  path: string,
  opts: LoadPi0Options = {},
): Promise<Pi0LoadReport> {
  const reader = await openSafetensors(path);
  try {
    const layout = mapPi0Layout(reader.list().map((t) => t.name));
    const layoutDescription = describePi0Layout(layout);
    opts.onLayout?.(layoutDescription, layout);
    const fileOf = (ours: string): string | undefined => layout.toFile.get(ours);
    const aliases: Record<string, string[]> = {};
    for (const [name] of namedParameters(policy)) {
      const candidates =
        name === PI0_EMBED_KEY
          ? [fileOf(PI0_EMBED_KEY), fileOf(PI0_TIED_HEAD_KEY)]
          : [fileOf(name), fileOf(name.replace('.base_layer.', '.'))];
      const found = candidates.filter((c): c is string => c !== undefined && c !== name);
      if (found.length > 0) aliases[name] = found;
    }
    const headFile = fileOf(PI0_TIED_HEAD_KEY);
    const buffers = new Set(layout.buffers);
    const report = await loadStateDict(policy, reader, {
      aliases,
      ignoreUnexpected: (n) => buffers.has(n) || (n === headFile && layout.tied === 'both'),
      allowMissing: (n) => (opts.allowMissingLora ?? true) && isLoraSpec(n),
    });
    return { ...report, layout, layoutDescription };
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
    const raw = fromFloat32((await v.data()) as Float32Array, v.shape, opts.dtype ?? 'F32');
    entries.push({ name, dtype: raw.dtype, shape: raw.shape, data: raw.bytes });
  }
  await writeSafetensors(path, entries, { metadata: { format: 'pt' } });
}
