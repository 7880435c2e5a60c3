// vla-train: parse, dispatch, print; one-line reason and non-zero exit on failure.
import { EXIT_CODES, runMain } from '@vla-lora/cli-kit';
import { parseArgs } from './args.js';
import { demoCommand } from './commands/demo.js';
import { exportLaunchCommand } from './commands/export-launch.js';
import { normStatsCommand } from './commands/norm-stats.js';
import { planCommand } from './commands/plan.js';
import { trainCommand } from './commands/train.js';

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
    case 'export-launch':
      await exportLaunchCommand(inv, out);
      return 0;
    case 'compute-norm-stats':
      await normStatsCommand(inv, out);
      return 0;
    case 'train':
      return trainCommand(inv, out);
    case 'demo':
      return demoCommand(inv, out);
  }
}

/** Runs vla-train; returns the exit code (cli-kit's: usage 2, a typed error 1 as one line, an unexpected one with its stack). */
export async function run(argv: string[]): Promise<number> {
  return (await runMain(() => main(argv), { name: 'vla-train', setExitCode: false })) ?? EXIT_CODES.ok;
}
