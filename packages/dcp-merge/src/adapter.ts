// extract-adapter: the PEFT adapter (adapter_model.safetensors + adapter_config.json) out of a DCP checkpoint of
// a PEFT model, as zero-merge does for ZeRO. LoRA tensors are gathered from their chunks, renamed to PEFT's
// on-disk names (adapter name dropped, `base_model.model.` prefix), written into a temp directory, verified with
// checkpoint-io's verifyAdapter, and only then renamed into place.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import {
  ADAPTER_CONFIG_NAME,
  ADAPTER_SAFETENSORS_NAME,
  checkLoraConfig,
  parsePyJson,
  removeAdapterName,
  verifyAdapter,
  withAtomicDir,
  writeAdapterConfig,
  writeSafetensors,
  type AdapterReport,
  type PeftLoraConfig,
} from '@vla-lora/checkpoint-io';
import { openDcpCheckpoint } from './checkpoint.js';
import { selectTensors, toEntry, type SelectOptions } from './consolidate.js';
import { DcpNoLoraError, DcpOutputExistsError, DcpUsageError } from './errors.js';

const LORA_PARAM =
  /^(.*)\.(lora_A|lora_B|lora_embedding_A|lora_embedding_B|lora_magnitude_vector)\.([^.]+)(?:\.(weight|bias))?$/;

export interface ExtractAdapterOptions extends SelectOptions {
  /** Adapter name inside the parameter names (default: "default", or the only one present). */
  adapterName?: string;
  /** adapter_config.json to use (default: one in the checkpoint dir or its parent). */
  configPath?: string;
  r?: number;
  loraAlpha?: number;
  targetModules?: string[];
  baseModel?: string;
  /** Prefix of PEFT's on-disk names, added when the names lack it (default `base_model.model.`). */
  prefix?: string;
  overwrite?: boolean;
}

export interface ExtractAdapterResult {
  output: string;
  adapterName: string;
  loraTensors: number;
  loraValues: number;
  configSource: string;
  report: AdapterReport;
}

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => null))?.isFile() ?? false;
}

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
  const out = resolve(outDir);
  if (!opts.overwrite && (await stat(out).catch(() => null)) !== null)
    throw new DcpOutputExistsError(`${out} already exists; remove it or pass --overwrite`);
  const ck = await openDcpCheckpoint(dir);
  try {
    const { list } = selectTensors(ck, opts);
    const lora = list
      .map((x) => ({ ...x, m: LORA_PARAM.exec(x.name) }))
      .filter((x): x is typeof x & { m: RegExpExecArray } => x.m !== null);
    if (lora.length === 0)
      throw new DcpNoLoraError(
        `${ck.dir} holds ${list.length} tensors but no LoRA parameter (<module>.lora_A.<adapter>.weight …); it is not a PEFT LoRA run — use \`dcp-merge <ckpt> <out.safetensors>\` for the full weights`,
      );
    const names = [...new Set(lora.map((x) => x.m[3] as string))].sort();
    const adapterName =
      opts.adapterName ?? (names.includes('default') ? 'default' : names.length === 1 ? names[0] : undefined);
    if (adapterName === undefined)
      throw new DcpUsageError(
        `the checkpoint holds several adapters (${names.join(', ')}); choose one with --adapter-name`,
      );
    const mine = lora.filter((x) => x.m[3] === adapterName);
    if (mine.length === 0)
      throw new DcpNoLoraError(
        `no LoRA tensors for adapter ${JSON.stringify(adapterName)}; the checkpoint has: ${names.join(', ')}`,
      );

    const { c: found, source } = await findConfig(ck.dir, opts);
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
    if (opts.r !== undefined) c['r'] = opts.r;
    if (opts.loraAlpha !== undefined) c['lora_alpha'] = opts.loraAlpha;
    if (opts.targetModules !== undefined) c['target_modules'] = opts.targetModules;
    if (opts.baseModel !== undefined) c['base_model_name_or_path'] = opts.baseModel;
    if (c['r'] === undefined) {
      const a = mine.find((x) => x.m[2] === 'lora_A');
      if (a) c['r'] = a.t.shape[0];
    }
    if (c['lora_alpha'] === undefined)
      throw new DcpNoLoraError(
        `no adapter_config.json beside ${ck.dir} and no --lora-alpha: the LoRA scaling (lora_alpha / r) cannot be read from the weights — pass --config <adapter_config.json> or --lora-alpha <n>`,
      );
    if (c['target_modules'] === undefined || c['target_modules'] === null)
      c['target_modules'] = [...new Set(mine.map((x) => (x.m[1] as string).split('.').pop() as string))].sort();
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
    const report = await withAtomicDir(
      out,
      async (tmp) => {
        await writeSafetensors(join(tmp, ADAPTER_SAFETENSORS_NAME), entries, { metadata: { format: 'pt' } });
        await writeAdapterConfig(tmp, config);
        return verifyAdapter(tmp);
      },
      { replace: opts.overwrite ?? false },
    );
    return {
      output: out,
      adapterName,
      loraTensors: mine.length,
      loraValues: mine.reduce((a, x) => a + x.t.numel, 0),
      configSource: source,
      report: { ...report, dir: out, weightsFile: join(out, ADAPTER_SAFETENSORS_NAME) },
    };
  } finally {
    await ck.close();
  }
}
