// vla-serve's command line (commander). Parsing only: no model is touched here.
import { Command, InvalidArgumentError, Option } from 'commander';
import { captureParse, intInRange } from '@vla-lora/cli-kit';
import { BACKEND_REQUESTS } from '@vla-lora/tfjs-backend';
import { ServeUsageError } from './errors.js';

export interface ServeArgs {
  config: string;
  baseWeights: string | null;
  seededBase: boolean;
  adapter: string;
  trainable: string | null;
  normStats: string | null;
  tokenizer: string | null;
  dataRoot: string;
  merge: boolean;
  host: string;
  port: number;
  maxFrameBytes: number;
  backend: string | null;
  seed: number;
  allowUntrained: boolean;
  verbose: boolean;
}

export type ParsedServeArgs =
  | { kind: 'serve'; args: ServeArgs }
  | { kind: 'help'; text: string }
  | { kind: 'list-configs' };

const intIn = (name: string, lo: number, hi: number) => intInRange(name, lo, hi, InvalidArgumentError);

function program(): Command {
  return new Command('vla-serve')
    .description("Serve a pi0 LoRA policy over openpi's WebSocket protocol; refuses adapters it cannot verify.")
    .option('--config <name>', 'train config name (the registry vla-train uses), e.g. pi0_libero_lora_tiny')
    .option('--base-weights <dir>', 'openpi PyTorch-layout base weights (model.safetensors or its directory)')
    .option('--seeded-base', "the base is the config's seeded init (a run trained without --base-weights)", false)
    .option('--adapter <dir>', 'PEFT adapter directory, e.g. <run>/adapter')
    .option('--trainable <file>', 'trained non-LoRA weights (default: trainable.safetensors beside the adapter)')
    .option(
      '--norm-stats <file>',
      'openpi norm_stats.json (default: beside the adapter, the run dir, then the dataset)',
    )
    .option(
      '--tokenizer <path>',
      "the run's tokenizer: openpi's paligemma_tokenizer.model (checked against the run's record)",
    )
    .option('--data-root <dir>', 'data root used by vla-train, to find the norm stats', 'data')
    .option('--merge', 'serve merged weights (B·A folded into the base)', false)
    .option('--host <host>', 'listen address (openpi serves on 0.0.0.0)', '0.0.0.0')
    .option('--port <n>', 'listen port (0 picks a free one)', intIn('--port', 0, 65535), 8000)
    .option(
      '--max-frame-bytes <n>',
      'largest request frame; larger ones close that connection with 1009',
      intIn('--max-frame-bytes', 1024, 2 ** 31),
      64 * 1024 * 1024,
    )
    .addOption(new Option('--backend <name>', "tfjs backend (default: the config's)").choices(BACKEND_REQUESTS))
    .option('--seed <n>', 'key of the per-request sampling noise', intIn('--seed', 0, 0xffffffff), 0)
    .option('--allow-untrained-adapter', 'serve an adapter whose lora_B are all zero', false)
    .option('--list-configs', 'print the config names and exit', false)
    .option('--verbose', 'log every connection and bad request (JSON lines)', false)
    .helpOption('-h, --help');
}

export function parseServeArgs(argv: string[]): ParsedServeArgs {
  const cmd = program();
  const parsed = captureParse(cmd)(argv);
  if (parsed.kind === 'help') return { kind: 'help', text: cmd.helpInformation() };
  if (parsed.kind === 'error')
    throw new ServeUsageError(`${parsed.message.replace(/^error: /, '')} (see vla-serve --help)`);
  const o = cmd.opts<{
    config?: string;
    baseWeights?: string;
    seededBase: boolean;
    adapter?: string;
    trainable?: string;
    normStats?: string;
    tokenizer?: string;
    dataRoot: string;
    merge: boolean;
    host: string;
    port: number;
    maxFrameBytes: number;
    backend?: string;
    seed: number;
    allowUntrainedAdapter: boolean;
    listConfigs: boolean;
    verbose: boolean;
  }>();
  if (o.listConfigs) return { kind: 'list-configs' };
  if (!o.config) throw new ServeUsageError('--config <name> is required (vla-serve --list-configs shows the names)');
  if (!o.adapter) throw new ServeUsageError('--adapter <dir> is required: the PEFT adapter directory to serve');
  return {
    kind: 'serve',
    args: {
      config: o.config,
      baseWeights: o.baseWeights ?? null,
      seededBase: o.seededBase,
      adapter: o.adapter,
      trainable: o.trainable ?? null,
      normStats: o.normStats ?? null,
      tokenizer: o.tokenizer ?? null,
      dataRoot: o.dataRoot,
      merge: o.merge,
      host: o.host,
      port: o.port,
      maxFrameBytes: o.maxFrameBytes,
      backend: o.backend ?? null,
      seed: o.seed,
      allowUntrained: o.allowUntrainedAdapter,
      verbose: o.verbose,
    },
  };
}
