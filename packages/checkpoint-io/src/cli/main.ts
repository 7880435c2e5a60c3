// vla-ckpt's commands: inspect, verify, convert and diff checkpoints from the command line.
import { EXIT_CODES, runProgram } from '@vla-lora/cli-kit';
import { Command, Option } from 'commander';
import { verifyAdapter } from '../peft/verify-dir.js';
import { verifyAdapterAgainstBase } from '../peft/base-fit-fs.js';
import { convertToSafetensors, type ConvertDtype } from './convert.js';
import { diffTensors, renderDiff } from './diff.js';
import { TensorsDifferError } from './errors.js';
import { inspect, renderInspect } from './inspect.js';
import { renderFit, renderReport } from './verify.js';
import { formatBytes } from './format.js';
import { UnsafePickleError } from '../pt/errors.js';
import { CheckpointIoError } from '../errors.js';

/** vla-ckpt's exit codes (README: "Exit codes"): cli-kit's, shared by every @vla-lora CLI. */
export { EXIT_CODES };

function jsonReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
}

/** Where the CLI writes (process streams by default; tests pass their own). */
export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
  /** Show progress on stderr for long operations (bar on a TTY, JSON lines otherwise). */
  progress?: boolean;
}

const processIo: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), progress: true };

function addInspect(program: Command, io: CliIo): void {
  program
    .command('inspect')
    .description('list tensors (dtype, shape, bytes), totals and metadata of a file, sharded dir, or adapter dir')
    .argument('<path>', '.safetensors, .pt/.bin, a directory (sharded or PEFT adapter), or an index.json')
    .option('--json', 'machine-readable output')
    .option(
      '--list-globals',
      'list every global a .pt pickle names, allowed or not, instead of refusing a file whose globals are not allowed (forensics; nothing is executed)',
    )
    .action(async (path: string, opts: { json?: boolean; listGlobals?: boolean }) => {
      const r = await inspect(path, { listGlobals: opts.listGlobals ?? false });
      io.out(`${opts.json ? JSON.stringify(r, jsonReplacer, 2) : renderInspect(r)}\n`);
    });
}

function addVerify(program: Command, io: CliIo): void {
  program
    .command('verify')
    .description('check a PEFT LoRA adapter directory (placeholder, pairs, ranks, NaN/Inf, targets)')
    .argument('<adapter-dir>')
    .option('--json', 'machine-readable report')
    .option('--base <path>', 'also check the fit against a base checkpoint (file, dir or index.json; headers only)')
    .action(async (dir: string, opts: { json?: boolean; base?: string }) => {
      const fit = opts.base === undefined ? undefined : await verifyAdapterAgainstBase(dir, opts.base);
      const r = fit?.adapter ?? (await verifyAdapter(dir));
      if (opts.json) {
        const { config: _config, ...rest } = r;
        const base = fit && { ...fit.base, fit: fit.fit };
        io.out(`${JSON.stringify(base ? { ...rest, base } : rest, null, 2)}\n`);
      } else io.out(`${renderReport(r)}\n${fit ? `${renderFit(fit)}\n` : ''}`);
    });
}

function addConvert(program: Command, io: CliIo): void {
  program
    .command('convert')
    .description('write any readable checkpoint as one safetensors file, streaming one tensor at a time')
    .argument('<input>', '.pt/.bin/.safetensors file or directory')
    .argument('<output>', 'output .safetensors path (written atomically)')
    .addOption(
      new Option('--dtype <dtype>', 'cast floating-point tensors')
        .choices(['keep', 'f32', 'bf16', 'f16'])
        .default('keep'),
    )
    .action(async (input: string, output: string, opts: { dtype: ConvertDtype }) => {
      const r = await convertToSafetensors(input, output, { dtype: opts.dtype, progress: io.progress ?? false });
      io.out(
        `wrote ${r.output}: ${r.tensors} tensors, ${formatBytes(r.bytesOut)} of tensor data (read ${formatBytes(r.bytesIn)})\n`,
      );
    });
}

function addDiff(program: Command, io: CliIo): void {
  program
    .command('diff')
    .description('per-tensor max |a-b|, and tensors whose names or shapes differ')
    .argument('<a>')
    .argument('<b>')
    .option('--atol <x>', 'exit 1 when any max |a-b| exceeds this', parseFloat)
    .option('--json', 'machine-readable output')
    .action(async (a: string, b: string, opts: { atol?: number; json?: boolean }) => {
      const r = await diffTensors(a, b);
      io.out(`${opts.json ? JSON.stringify(r, jsonReplacer, 2) : renderDiff(r)}\n`);
      if (r.structureDiffers) throw new TensorsDifferError('the two checkpoints hold different tensor names or shapes');
      if (opts.atol !== undefined && !(r.maxAbsDiff <= opts.atol)) {
        throw new TensorsDifferError(`max |a-b| = ${r.maxAbsDiff} exceeds --atol ${opts.atol}`);
      }
    });
}

export function buildProgram(io: CliIo = processIo): Command {
  const program = new Command('vla-ckpt')
    .description('Inspect, verify, convert and diff safetensors / PyTorch / PEFT checkpoints')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.out, writeErr: io.err });
  addInspect(program, io);
  addVerify(program, io);
  addConvert(program, io);
  addDiff(program, io);
  return program;
}

/** Runs the CLI; returns the exit code. Failures print one line: "vla-ckpt: <ErrorName>: <message>". */
export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const program = buildProgram(io);
  return runProgram(program, argv, {
    name: 'vla-ckpt',
    typedErrors: [CheckpointIoError],
    exitCodes: [[UnsafePickleError, EXIT_CODES.unsafePickle]],
    err: io.err,
  });
}
