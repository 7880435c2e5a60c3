// The parts of "extract the PEFT adapter out of a sharded training checkpoint" that do not depend on the
// checkpoint format: shared by zero-merge (DeepSpeed ZeRO) and dcp-merge (torch.distributed.checkpoint).
// Recognising in-memory LoRA parameter names, choosing the adapter, drafting adapter_config.json from a
// found config, flags and the weights, and writing + verifying the adapter directory atomically.
import { join } from 'node:path';
import { withAtomicDir } from '../fs/atomic.js';
import { type SafetensorsEntry, writeSafetensors } from '../safetensors/writer.js';
import { writeAdapterConfig } from './config-fs.js';
import type { PeftLoraConfig } from './config.js';
import type { AdapterReport } from './verify.js';
import { verifyAdapter } from './verify-dir.js';
import { ADAPTER_SAFETENSORS_NAME } from './weights.js';

/** A LoRA parameter name inside a PEFT model: <module>.<lora_X>.<adapter>[.weight|.bias]. */
const LORA_PARAM =
  /^(.*)\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)\.([^.]+)(?:\.(weight|bias))?$/;

export interface LoraParam {
  name: string;
  module: string;
  kind: string;
  adapterName: string;
}

/** Parses an in-memory (adapter name included) LoRA parameter name; null for any other parameter. */
export function parseLoraParam(name: string): LoraParam | null {
  const m = LORA_PARAM.exec(name);
  return m ? { name, module: m[1]!, kind: m[2]!, adapterName: m[3]! } : null;
}

/** The adapter to extract, or why none can be chosen (the caller throws its own typed error). */
export type AdapterChoice =
  | { ok: true; adapterName: string }
  | { ok: false; reason: 'ambiguous' | 'absent'; message: string };

/** `requested`, else "default", else the only adapter present (`present`: sorted adapter names). */
export function chooseAdapterName(present: readonly string[], requested?: string): AdapterChoice {
  const name = requested ?? (present.includes('default') ? 'default' : present.length === 1 ? present[0] : undefined);
  if (name === undefined)
    return {
      ok: false,
      reason: 'ambiguous',
      message: `the checkpoint holds several adapters (${present.join(', ')}); choose one with --adapter-name`,
    };
  if (!present.includes(name))
    return {
      ok: false,
      reason: 'absent',
      message: `no LoRA tensors for adapter ${JSON.stringify(name)}; the checkpoint has: ${present.join(', ')}`,
    };
  return { ok: true, adapterName: name };
}

/** adapter_config.json fields given on the command line (they override a found config). */
export interface AdapterConfigFlags {
  r?: number;
  loraAlpha?: number;
  targetModules?: string[];
  baseModel?: string;
}

/** What an adapter extraction (zero-merge, dcp-merge) reports. */
export interface ExtractedAdapter {
  /** The adapter directory written. */
  output: string;
  adapterName: string;
  /** LoRA tensors written and their values. */
  loraTensors: number;
  loraValues: number;
  /** Where the config came from (a path, or "flags"). */
  configSource: string;
  /** checkpoint-io's verifyAdapter report on the written adapter. */
  report: AdapterReport;
}

/**
 * adapter_config.json before checking: the found config (or PEFT's LoRA defaults), the flags over it, `r` from
 * the first lora_A's rows and `target_modules` from the LoRA modules' last segments when neither says.
 * `lora_alpha` stays absent when nothing gives it (the weights cannot tell it): the caller refuses that.
 */
export function draftAdapterConfig(
  found: Record<string, unknown> | null,
  flags: AdapterConfigFlags,
  lora: ReadonlyArray<{ name: string; shape: readonly number[] }>,
): Record<string, unknown> {
  const c: Record<string, unknown> = found
    ? { ...found }
    : {
        peft_type: 'LORA',
        task_type: null,
        bias: 'none',
        lora_dropout: 0,
        fan_in_fan_out: false,
        use_rslora: false,
        use_dora: false,
      };
  if (flags.r !== undefined) c['r'] = flags.r;
  if (flags.loraAlpha !== undefined) c['lora_alpha'] = flags.loraAlpha;
  if (flags.targetModules !== undefined) c['target_modules'] = flags.targetModules;
  if (flags.baseModel !== undefined) c['base_model_name_or_path'] = flags.baseModel;
  if (c['r'] === undefined) {
    const a = lora.find((t) => parseLoraParam(t.name)?.kind === 'lora_A');
    if (a) c['r'] = a.shape[0];
  }
  if (c['target_modules'] === undefined || c['target_modules'] === null) {
    const targets = new Set(lora.map((t) => (parseLoraParam(t.name)?.module ?? t.name).split('.').pop()!));
    c['target_modules'] = [...targets].sort();
  }
  return c;
}

/**
 * Writes adapter_model.safetensors + adapter_config.json into a temp sibling of `out`, verifies it with
 * verifyAdapter, and only then renames it into place (an existing `out` is replaced only with `replace`).
 * The report names the final paths.
 */
export async function writeVerifiedAdapter(
  out: string,
  entries: Iterable<SafetensorsEntry> | AsyncIterable<SafetensorsEntry>,
  config: PeftLoraConfig,
  opts: { replace?: boolean } = {},
): Promise<AdapterReport> {
  const report = await withAtomicDir(
    out,
    async (tmp) => {
      await writeSafetensors(join(tmp, ADAPTER_SAFETENSORS_NAME), entries, { metadata: { format: 'pt' } });
      await writeAdapterConfig(tmp, config);
      return verifyAdapter(tmp);
    },
    { replace: opts.replace ?? false },
  );
  return { ...report, dir: out, weightsFile: join(out, ADAPTER_SAFETENSORS_NAME) };
}
