// vla-train: parse, dispatch, print; one-line reason and non-zero exit on failure.
import { EXIT_CODES, runMain } from '@vla-lora/cli-kit';
import { parseArgs } from './args.js';
import { UsageError } from './errors.js';
import { planCommand } from './commands/plan.js';

const out = (s: string) => process.stdout.write(`${s}\n`);

async function main(argv: string[]): Promise<number> {
  const inv = parseArgs(argv);
  switch (inv.kind) {
    case 'help':
      process.stdout.write(inv.text);
      return 0;
    case 'plan':
      planCommand(inv, out);
      return 0;
    case 'export-launch': {
      const { exportLaunchCommand } = await import('./commands/export-launch.js');
      await exportLaunchCommand(inv, out);
      return 0;
    }
    case 'compute-norm-stats': {
      const { normStatsCommand } = await import('./commands/norm-stats.js');
      await normStatsCommand(inv, out);
      return 0;
    }
    case 'train': {
      const { trainCommand } = await import('./commands/train.js');
      return trainCommand(inv, out);
    }
    case 'demo': {
      const { demoCommand } = await import('./commands/demo.js');
      return demoCommand(inv, out);
    }
  }
}

/** Runs vla-train; returns the exit code (cli-kit's: usage 2, a typed error 1 as one line, an unexpected one with its stack). */
export async function run(argv: string[]): Promise<number> {
  const code = await runMain(() => main(argv), {
    name: 'vla-train',
    usageErrors: [UsageError],
    setExitCode: false,
  });
  return code ?? EXIT_CODES.ok;
}
