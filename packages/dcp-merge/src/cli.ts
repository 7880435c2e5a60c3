// dcp-merge CLI: consolidate (default), extract-adapter, inspect. Failures print one line
// "dcp-merge: <ErrorName>: <message>" and exit 1 (2 for usage errors); success lines are printed only after the
// output was written (and, for adapters, verified).
import { EXIT_CODES, runProgram, tensorProgress } from '@vla-lora/cli-kit';
import {
  addExtractAdapterOptions,
  CheckpointIoError,
  type ExtractAdapterFlags,
  extractAdapterFlagOptions,
  formatExtractedAdapter,
} from '@vla-lora/checkpoint-io';
import { Command } from 'commander';
import { extractAdapter } from './adapter.js';
import { openDcpCheckpoint } from './checkpoint.js';
import { consolidate } from './consolidate.js';
import { DcpMergeError, DcpUnsafePickleError, DcpUsageError } from './errors.js';

const fmt = (n: number): string => n.toLocaleString('en-US');

interface KeyFlags {
  key?: string;
  all?: boolean;
}

function keyOption(f: KeyFlags): { key?: string | null } {
  if (f.all && f.key !== undefined) throw new DcpUsageError('--key and --all exclude each other');
  return f.all ? { key: null } : f.key !== undefined ? { key: f.key } : {};
}

export function buildProgram(): Command {
  const program = new Command('dcp-merge')
    .description(
      'Consolidate PyTorch distributed checkpoints (FSDP / torch.distributed.checkpoint: .metadata + __<rank>_<n>.distcp) into safetensors and extract PEFT LoRA adapters, in bounded memory, without Python.\n' +
        'Default command: dcp-merge <checkpoint-dir> <output.safetensors>',
    )
    .showHelpAfterError()
    .exitOverride();

  program
    .command('consolidate', { isDefault: true })
    .description(
      'gather every chunk of every tensor into one safetensors file (what dcp_to_torch_save holds, as safetensors)',
    )
    .argument('<checkpoint>', 'DCP directory (holding .metadata)')
    .argument('<output>', 'a .safetensors file')
    .option('--key <key>', 'top-level state-dict key to export, dropped from the names (default: "model" when present)')
    .option('--all', 'export every tensor (model, optimizer state…) under its flattened name')
    .option('--overwrite', 'replace an existing output')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress output')
    .action(
      async (
        checkpoint: string,
        output: string,
        f: KeyFlags & { overwrite?: boolean; json?: boolean; quiet?: boolean },
      ) => {
        const progress = tensorProgress('consolidating', { quiet: f.quiet ?? false });
        const r = await consolidate(checkpoint, output, {
          ...keyOption(f),
          overwrite: f.overwrite ?? false,
          onProgress: progress.listener,
        }).finally(progress.stop);
        if (f.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
        else
          process.stdout.write(
            `wrote ${fmt(r.tensors)} tensors (${fmt(r.bytes)} bytes) ${r.key === null ? '(all keys)' : `under key "${r.key}"`} from ${r.files.length} .distcp files to ${r.output}\n` +
              (r.skippedTensors > 0
                ? `  ${fmt(r.skippedTensors)} tensors under other keys not written (--all writes them)\n`
                : '') +
              (r.skippedBytesEntries > 0
                ? `  ${fmt(r.skippedBytesEntries)} non-tensor entries (pickled Python values) not written\n`
                : ''),
          );
      },
    );

  const extract = program
    .command('extract-adapter')
    .description(
      'write the PEFT LoRA adapter (adapter_model.safetensors + adapter_config.json) held in the checkpoint, then verify it',
    )
    .argument('<checkpoint>', 'DCP directory (holding .metadata)')
    .argument('<out-dir>', 'adapter directory to create')
    .option('--key <key>', 'top-level state-dict key holding the model (default: "model" when present)')
    .option('--all', 'look at every tensor under its flattened name');
  addExtractAdapterOptions(extract, {
    configDefault: 'one in the checkpoint dir or its parent',
    UsageError: DcpUsageError,
  })
    .option('--prefix <prefix>', 'prefix of PEFT names, added when missing (default "base_model.model.")')
    .option('--overwrite', 'replace an existing output directory')
    .option('--json', 'print the result as JSON on stdout')
    .action(
      async (
        checkpoint: string,
        outDir: string,
        f: KeyFlags &
          ExtractAdapterFlags & {
            prefix?: string;
            overwrite?: boolean;
            json?: boolean;
          },
      ) => {
        const r = await extractAdapter(checkpoint, outDir, {
          ...keyOption(f),
          ...extractAdapterFlagOptions(f),
          ...(f.prefix !== undefined ? { prefix: f.prefix } : {}),
          overwrite: f.overwrite ?? false,
        });
        process.stdout.write(formatExtractedAdapter(r, { json: f.json ?? false }));
      },
    );

  program
    .command('inspect')
    .description(
      'tensors, dtypes, chunks and files of a DCP checkpoint (everything is validated; no tensor data is read)',
    )
    .argument('<checkpoint>', 'DCP directory (holding .metadata)')
    .option('--json', 'print the report as JSON')
    .action(async (checkpoint: string, f: { json?: boolean }) => {
      const ck = await openDcpCheckpoint(checkpoint);
      try {
        const tops = new Map<string, { tensors: number; bytes: number }>();
        for (const t of ck.tensors) {
          const k = String(t.path[0]);
          const e = tops.get(k) ?? { tensors: 0, bytes: 0 };
          e.tensors++;
          e.bytes += t.byteLength;
          tops.set(k, e);
        }
        const report = {
          dir: ck.dir,
          version: ck.metadata.version,
          files: ck.files,
          tensors: ck.tensors.length,
          bytes: ck.totalBytes,
          chunks: ck.metadata.entries.reduce((a, e) => a + (e.kind === 'tensor' ? e.chunks.length : 0), 0),
          keys: Object.fromEntries(tops),
          nonTensorEntries: ck.bytesEntries.map((e) => e.fqn),
        };
        if (f.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        else
          process.stdout.write(
            `${report.dir}: DCP metadata ${report.version ?? '(no version)'}, ${report.files.length} files, ${fmt(report.tensors)} tensors in ${fmt(report.chunks)} chunks, ${fmt(report.bytes)} bytes\n` +
              [...tops].map(([k, v]) => `  ${k}: ${fmt(v.tensors)} tensors, ${fmt(v.bytes)} bytes\n`).join('') +
              `  non-tensor entries: ${report.nonTensorEntries.join(', ') || '(none)'}\n`,
          );
      } finally {
        await ck.close();
      }
    });
  return program;
}

/** Runs the CLI with user arguments; returns the exit code (README: "Exit codes"). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  return runProgram(program, argv, {
    name: 'dcp-merge',
    typedErrors: [DcpMergeError, CheckpointIoError],
    usageErrors: [DcpUsageError],
    exitCodes: [[DcpUnsafePickleError, EXIT_CODES.unsafePickle]],
  });
}
