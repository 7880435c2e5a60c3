// extract-adapter: the PEFT adapter (adapter_model.safetensors + adapter_config.json) out of a DCP checkpoint of
// a PEFT model, as zero-merge does for ZeRO. LoRA tensors are gathered from their chunks, renamed to PEFT's
// on-disk names (adapter name dropped, `base_model.model.` prefix), written into a temp directory, verified with
// checkpoint-io's verifyAdapter, and only then renamed into place.
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  ADAPTER_CONFIG_NAME,
  checkLoraConfig,
  chooseAdapterName,
  draftAdapterConfig,
  isFile,
  parseLoraParam,
  parsePyJson,
  removeAdapterName,
  writeVerifiedAdapter,
  type AdapterConfigFlags,
  type ExtractedAdapter,
  type PeftLoraConfig,
} from '@vla-lora/checkpoint-io';
import { openDcpCheckpoint } from './checkpoint.js';
import { freshOutput, selectTensors, toEntry, type SelectOptions } from './consolidate.js';
import { DcpNoLoraError, DcpUsageError } from './errors.js';

export interface ExtractAdapterOptions extends SelectOptions, AdapterConfigFlags {
  /** Adapter name inside the parameter names (default: "default", or the only one present). */
  adapterName?: string;
  /** adapter_config.json to use (default: one in the checkpoint dir or its parent). */
  configPath?: string;
  /** Prefix of PEFT's on-disk names, added when the names lack it (default `base_model.model.`). */
  prefix?: string;
  overwrite?: boolean;
}

export type ExtractAdapterResult = ExtractedAdapter;

async function findConfig(
  dir: string,
  opts: ExtractAdapterOptions,
): Promise<{ c: Record<string, unknown> | null; source: string }> {
  const candidates = opts.configPath
    ? [resolve(opts.configPath)]
    : [join(dir, ADAPTER_CONFIG_NAME), join(dirname(dir), ADAPTER_CONFIG_NAME)];
  for (const p of candidates) {
    if (!(await isFile(p))) {
      if (opts.configPath) throw new DcpUsageError(`adapter config ${p} does not exist`);
      continue;
    }
    try {
      return { c: parsePyJson(await readFile(p, 'utf8')) as Record<string, unknown>, source: p };
    } catch (err) {
      throw new DcpUsageError(`${p} is not valid JSON: ${(err as Error).message}`);
    }
  }
  return { c: null, source: 'flags' };
}

/** Writes the PEFT adapter held in the DCP checkpoint `dir` to `outDir` (verified before it appears). */
export async function extractAdapter(
  dir: string,
  outDir: string,
  opts: ExtractAdapterOptions = {},
): Promise<ExtractAdapterResult> {
  const out = await freshOutput(outDir, opts.overwrite);
  const ck = await openDcpCheckpoint(dir);
  try {
    const { list } = selectTensors(ck, opts);
    const lora = list
      .map((x) => ({ ...x, p: parseLoraParam(x.name) }))
      .filter((x): x is typeof x & { p: NonNullable<typeof x.p> } => x.p !== null);
    if (lora.length === 0)
      throw new DcpNoLoraError(
        `${ck.dir} holds ${list.length} tensors but no LoRA parameter (<module>.lora_A.<adapter>.weight …); it is not a PEFT LoRA run — use \`dcp-merge <ckpt> <out.safetensors>\` for the full weights`,
      );
    const names = [...new Set(lora.map((x) => x.p.adapterName))].sort();
    const choice = chooseAdapterName(names, opts.adapterName);
    if (!choice.ok)
      throw choice.reason === 'ambiguous' ? new DcpUsageError(choice.message) : new DcpNoLoraError(choice.message);
    const { adapterName } = choice;
    const mine = lora.filter((x) => x.p.adapterName === adapterName);

    const { c: found, source } = await findConfig(ck.dir, opts);
    const c = draftAdapterConfig(
      found,
      opts,
      mine.map((x) => ({ name: x.name, shape: x.t.shape })),
    );
    if (c['lora_alpha'] === undefined)
      throw new DcpNoLoraError(
        `no adapter_config.json beside ${ck.dir} and no --lora-alpha: the LoRA scaling (lora_alpha / r) cannot be read from the weights — pass --config <adapter_config.json> or --lora-alpha <n>`,
      );
    c['inference_mode'] = true;
    let config: PeftLoraConfig;
    try {
      config = checkLoraConfig(c, found ? source : 'flags');
    } catch (err) {
      throw new DcpUsageError(`adapter config is not usable: ${(err as Error).message}`);
    }

    const prefix = opts.prefix ?? 'base_model.model.';
    const entries = mine.map(({ name, t }) => {
      const disk = removeAdapterName(name, adapterName);
      return toEntry(disk.startsWith(prefix) ? disk : `${prefix}${disk}`, t);
    });
    const report = await writeVerifiedAdapter(out, entries, config, { replace: opts.overwrite ?? false });
    return {
      output: out,
      adapterName,
      loraTensors: mine.length,
      loraValues: mine.reduce((a, x) => a + x.t.numel, 0),
      configSource: source,
      report,
    };
  } finally {
    await ck.close();
  }
}
