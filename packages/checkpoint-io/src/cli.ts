// vla-ckpt: inspect, verify, convert and diff checkpoints from the command line.
import { Command, CommanderError, Option } from 'commander';
import { verifyAdapter } from './peft/verify.js';
import { convertToSafetensors, type ConvertDtype } from './cli/convert.js';
import { diffTensors, renderDiff } from './cli/diff.js';
import { TensorsDifferError } from './cli/errors.js';
import { inspect, renderInspect } from './cli/inspect.js';
import { renderReport } from './cli/verify.js';
import { formatBytes } from './cli/format.js';

function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}

export function buildProgram(): Command {
  const program = new Command('vla-ckpt')
    .description('Inspect, verify, convert and diff safetensors / PyTorch / PEFT checkpoints')
    .showHelpAfterError()
    .exitOverride();

  program
    .command('inspect')
    .description('list tensors (dtype, shape, bytes), totals and metadata of a file, sharded dir, or adapter dir')
    .argument('<path>', '.safetensors, .pt/.bin, a directory (sharded or PEFT adapter), or an index.json')
    .option('--json', 'machine-readable output')
    .action(async (path: string, opts: { json?: boolean }) => {
      const r = await inspect(path);
      process.stdout.write(`${opts.json ? JSON.stringify(r, jsonReplacer, 2) : renderInspect(r)}\n`);
    });

  program
    .command('verify')
    .description('check a PEFT LoRA adapter directory (placeholder, pairs, ranks, NaN/Inf, targets)')
    .argument('<adapter-dir>')
    .option('--json', 'machine-readable report')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const r = await verifyAdapter(dir);
      if (opts.json) {
        const { config: _config, ...rest } = r;
        process.stdout.write(`${JSON.stringify(rest, null, 2)}\n`);
      } else process.stdout.write(`${renderReport(r)}\n`);
    });

  program
    .command('convert')
    .description('write any readable checkpoint as one safetensors file, streaming one tensor at a time')
    .argument('<input>', '.pt/.bin/.safetensors file or directory')
    .argument('<output>', 'output .safetensors path (written atomically)')
    .addOption(new Option('--dtype <dtype>', 'cast floating-point tensors').choices(['keep', 'f32', 'bf16', 'f16']).default('keep'))
    .action(async (input: string, output: string, opts: { dtype: ConvertDtype }) => {
      const r = await convertToSafetensors(input, output, { dtype: opts.dtype });
      process.stdout.write(`wrote ${r.output}: ${r.tensors} tensors, ${formatBytes(r.bytesOut)} of tensor data (read ${formatBytes(r.bytesIn)})\n`);
    });

  program
    .command('diff')
    .description('per-tensor max |a-b|, and tensors whose names or shapes differ')
    .argument('<a>')
    .argument('<b>')
    .option('--atol <x>', 'exit 1 when any max |a-b| exceeds this', parseFloat)
    .option('--json', 'machine-readable output')
    .action(async (a: string, b: string, opts: { atol?: number; json?: boolean }) => {
      const r = await diffTensors(a, b);
      process.stdout.write(`${opts.json ? JSON.stringify(r, jsonReplacer, 2) : renderDiff(r)}\n`);
      if (r.structureDiffers) throw new TensorsDifferError('the two checkpoints hold different tensor names or shapes');
      if (opts.atol !== undefined && !(r.maxAbsDiff <= opts.atol)) {
        throw new TensorsDifferError(`max |a-b| = ${r.maxAbsDiff} exceeds --atol ${opts.atol}`);
      }
    });
  return program;
}

/** Runs the CLI; returns the exit code. Failures print one line: "vla-ckpt: <ErrorName>: <message>". */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const e = err as Error;
    const name = e?.name && e.name !== 'Error' ? `${e.name}: ` : '';
    process.stderr.write(`vla-ckpt: ${name}${String(e?.message ?? err).replace(/\s*\n\s*/g, ' ')}\n`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
