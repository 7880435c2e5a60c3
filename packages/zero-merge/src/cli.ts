// zero-merge CLI: consolidate (default), extract-adapter, inspect. Failures print one line
// "zero-merge: <ErrorName>: <message>" and exit 1 (2 for usage errors); success lines are printed
// only after the output was written and checked.
import { collect, EXIT_CODES, runProgram, tensorProgress } from '@vla-lora/cli-kit';
import {
  addExtractAdapterOptions,
  CheckpointIoError,
  type ExtractAdapterFlags,
  extractAdapterFlagOptions,
  formatExtractedAdapter,
  UnsafePickleError,
} from '@vla-lora/checkpoint-io';
import { Command, Option } from 'commander';
import { extractAdapter } from './adapter.js';
import { consolidate, DEFAULT_MAX_SHARD_SIZE } from './consolidate.js';
import { OUTPUT_DTYPES, parseOutputDtype } from './dtypes.js';
import { ZeroMergeError, ZeroMergeUsageError } from './errors.js';
import { formatInspectReport, inspectCheckpoint } from './inspect.js';
import { parseSize } from './size.js';

const fmt = (n: number): string => n.toLocaleString('en-US');

interface ConsolidateFlags {
  tag?: string;
  excludeFrozen?: boolean;
  dtype: string;
  include?: string[];
  exclude?: string[];
  maxShardSize?: string;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
}

interface ExtractFlags extends ExtractAdapterFlags {
  tag?: string;
  modulesToSave?: string[];
  dtype: string;
  overwrite?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function buildProgram(): Command {
  const program = new Command('zero-merge')
    .description(
      'Consolidate DeepSpeed ZeRO-1/2/3 checkpoints into safetensors and recover PEFT LoRA adapters from them, one tensor at a time in bounded memory.\n' +
        'Default command: zero-merge <checkpoint> <output>  (same as `zero-merge consolidate …`)',
    )
    .showHelpAfterError()
    .exitOverride();

  program
    .command('consolidate', { isDefault: true })
    .description(
      'reconstruct the full state dict as zero_to_fp32 does (trainable fp32, frozen in their 16-bit dtype, buffers, tied weights) and write safetensors',
    )
    .argument('<checkpoint>', 'DeepSpeed checkpoint dir (holding "latest" and global_step*/) or a tag dir')
    .argument(
      '<output>',
      'a .safetensors file, or a directory (model.safetensors, or shards + model.safetensors.index.json)',
    )
    .option('-t, --tag <tag>', 'checkpoint tag to read (default: the "latest" file)')
    .option('--exclude-frozen', 'leave out frozen parameters (zero_to_fp32 --exclude_frozen_parameters)')
    .addOption(
      new Option('--dtype <dtype>', `output dtype of floating tensors: ${OUTPUT_DTYPES.join('|')}`).default('keep'),
    )
    .option(
      '--include <pattern>',
      'keep only tensors matching (repeatable; glob on dotted names, * = one segment, ** = any, re:<regex>)',
      collect,
    )
    .option('--exclude <pattern>', 'drop tensors matching (repeatable)', collect)
    .option(
      '--max-shard-size <size>',
      `largest shard when writing a directory, e.g. 5GB, 500MB (default ${DEFAULT_MAX_SHARD_SIZE / 1e9}GB)`,
    )
    .option('--overwrite', 'replace an existing output')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (checkpoint: string, output: string, f: ConsolidateFlags) => {
      const dtype = parseOutputDtype(f.dtype);
      const reporter = tensorProgress('consolidating', { quiet: f.quiet ?? false });
      try {
        const r = await consolidate(checkpoint, output, {
          ...(f.tag !== undefined ? { tag: f.tag } : {}),
          excludeFrozen: f.excludeFrozen ?? false,
          dtype,
          include: f.include ?? [],
          exclude: f.exclude ?? [],
          ...(f.maxShardSize !== undefined ? { maxShardSize: parseSize(f.maxShardSize) } : {}),
          overwrite: f.overwrite ?? false,
          onProgress: reporter.listener,
        });
        reporter.stop();
        if (f.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else {
          const c = r.counts;
          process.stdout.write(
            `ZeRO-${r.stage}, world size ${r.worldSize}: wrote ${fmt(r.tensors)} tensors (${fmt(r.bytes)} bytes) to ${r.output}\n` +
              `  trainable ${fmt(c.trainable.count)} (${fmt(c.trainable.numel)} values), frozen ${fmt(c.frozen.count)} (${fmt(c.frozen.numel)}), buffers ${fmt(c.buffer.count)}, tied copies ${fmt(c.shared.count)}\n` +
              r.files.map((x) => `  ${x}\n`).join('') +
              r.warnings.map((w) => `warning: ${w}\n`).join(''),
          );
        }
      } finally {
        reporter.stop();
      }
    });

  const extract = program
    .command('extract-adapter')
    .description(
      'write a real PEFT LoRA adapter (adapter_model.safetensors + adapter_config.json) from the ZeRO shards, then verify it',
    )
    .argument('<checkpoint>', 'DeepSpeed checkpoint dir (holding "latest") or a tag dir')
    .argument('<out-dir>', 'adapter directory to create')
    .option('-t, --tag <tag>', 'checkpoint tag to read (default: the "latest" file)');
  addExtractAdapterOptions(extract, {
    configDefault: 'the one in the checkpoint dir',
    UsageError: ZeroMergeUsageError,
  })
    .option(
      '--modules-to-save <module>',
      'also save this trained module (repeatable, dotted path, segment globs)',
      collect,
    )
    .addOption(
      new Option('--dtype <dtype>', `dtype of the adapter tensors: ${OUTPUT_DTYPES.join('|')}`).default('keep'),
    )
    .option('--overwrite', 'replace an existing output directory')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(async (checkpoint: string, outDir: string, f: ExtractFlags) => {
      const dtype = parseOutputDtype(f.dtype);
      const reporter = tensorProgress('extracting', { quiet: f.quiet ?? false });
      try {
        const r = await extractAdapter(checkpoint, outDir, {
          ...(f.tag !== undefined ? { tag: f.tag } : {}),
          ...extractAdapterFlagOptions(f),
          modulesToSave: f.modulesToSave ?? [],
          dtype,
          overwrite: f.overwrite ?? false,
          onProgress: reporter.listener,
        });
        reporter.stop();
        process.stdout.write(formatExtractedAdapter(r, { json: f.json ?? false, otherTensors: true }));
      } finally {
        reporter.stop();
      }
    });

  program
    .command('inspect')
    .description(
      'stage, world size, dtype, files, trainable/frozen/buffer counts, tied weights, and whether the adapter beside it is a placeholder',
    )
    .argument('<checkpoint>', 'DeepSpeed checkpoint dir (holding "latest") or a tag dir')
    .option('-t, --tag <tag>', 'checkpoint tag to read (default: the "latest" file)')
    .option('--json', 'print the report as JSON')
    .action(async (checkpoint: string, f: { tag?: string; json?: boolean }) => {
      const r = await inspectCheckpoint(checkpoint, f.tag !== undefined ? { tag: f.tag } : {});
      process.stdout.write(`${f.json ? JSON.stringify(r, null, 2) : formatInspectReport(r)}\n`);
    });

  return program;
}

/** Runs the CLI with user arguments; returns the exit code (README: "Exit codes"). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  return runProgram(program, argv, {
    name: 'zero-merge',
    typedErrors: [ZeroMergeError, CheckpointIoError],
    usageErrors: [ZeroMergeUsageError],
    exitCodes: [[UnsafePickleError, EXIT_CODES.unsafePickle]],
  });
}
