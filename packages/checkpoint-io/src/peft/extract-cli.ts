// The command-line side of "extract the PEFT adapter" shared by zero-merge and dcp-merge: the flags that
// override adapter_config.json (and their parsing), the flags -> options mapping, and the result printed
// after the adapter was written and verified. Only commander's Command type is used (no runtime import).
import { type MessageError, positiveInt } from '@vla-lora/cli-kit';
import type { Command } from 'commander';
import type { AdapterConfigFlags, ExtractedAdapter } from './extract.js';

/** The shared extract-adapter flags as commander hands them to the action (camelCase). */
export interface ExtractAdapterFlags {
  adapterName?: string;
  config?: string;
  r?: number;
  loraAlpha?: number;
  targetModules?: string[];
  baseModel?: string;
}

/** The extraction options the shared flags stand for (what both tools' extractAdapter take). */
export interface ExtractAdapterFlagOptions extends AdapterConfigFlags {
  adapterName?: string;
  configPath?: string;
}

export interface ExtractAdapterOptionsSpec {
  /** What `--config` defaults to, for its help line (e.g. "the one in the checkpoint dir"). */
  configDefault: string;
  /** The tool's usage error class (exit 2), thrown for a malformed flag value. */
  UsageError: MessageError;
}

/**
 * Adds --adapter-name, --config, --r, --lora-alpha, --target-modules and --base-model to an extract-adapter
 * command. --r must be a positive integer and --lora-alpha a positive number (else `spec.UsageError`);
 * --target-modules is comma-separated and repeatable.
 */
export function addExtractAdapterOptions(cmd: Command, spec: ExtractAdapterOptionsSpec): Command {
  const positiveNumber = (name: string) => (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0)
      throw new spec.UsageError(`${name} must be a positive number, got ${JSON.stringify(v)}`);
    return n;
  };
  const list = (v: string, prev: string[] = []): string[] => [
    ...prev,
    ...v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
  return cmd
    .option('--adapter-name <name>', 'adapter name inside the parameter names (default: "default" or the only one)')
    .option('--config <path>', `adapter_config.json to use (default: ${spec.configDefault})`)
    .option('--r <n>', 'LoRA rank (overrides the config)', positiveInt('--r', spec.UsageError))
    .option(
      '--lora-alpha <n>',
      'lora_alpha (overrides the config; required when there is no config)',
      positiveNumber('--lora-alpha'),
    )
    .option('--target-modules <names>', 'comma-separated target modules (overrides the config)', list)
    .option('--base-model <name>', 'base_model_name_or_path for the config');
}

/** The options the shared flags stand for; flags not given stay absent. */
export function extractAdapterFlagOptions(f: ExtractAdapterFlags): ExtractAdapterFlagOptions {
  return {
    ...(f.adapterName !== undefined ? { adapterName: f.adapterName } : {}),
    ...(f.config !== undefined ? { configPath: f.config } : {}),
    ...(f.r !== undefined ? { r: f.r } : {}),
    ...(f.loraAlpha !== undefined ? { loraAlpha: f.loraAlpha } : {}),
    ...(f.targetModules !== undefined ? { targetModules: f.targetModules } : {}),
    ...(f.baseModel !== undefined ? { baseModel: f.baseModel } : {}),
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');

/**
 * What extract-adapter prints once the adapter was written and verified: the result as JSON (the report
 * without its config), or "wrote adapter …" / "verified: …" lines and one line per warning.
 * `otherTensors` adds the count of non-LoRA tensors (modules_to_save) to the verified line.
 */
export function formatExtractedAdapter(
  r: ExtractedAdapter,
  opts: { json?: boolean; otherTensors?: boolean } = {},
): string {
  const { config: _config, ...report } = r.report;
  if (opts.json) return `${JSON.stringify({ ...r, report }, null, 2)}\n`;
  const ranks = Object.entries(report.ranks)
    .map(([k, v]) => `r=${k}×${v}`)
    .join(' ');
  return (
    `wrote adapter ${r.output} (adapter "${r.adapterName}", config from ${r.configSource})\n` +
    `verified: ${fmt(report.loraTensors)} LoRA tensors, ${fmt(report.loraValues)} LoRA values, ${fmt(report.modules)} modules` +
    (opts.otherTensors ? `, ${fmt(report.otherTensors)} other tensors` : '') +
    `, ranks ${ranks}\n` +
    report.warnings.map((w) => `warning: ${w}\n`).join('')
  );
}
