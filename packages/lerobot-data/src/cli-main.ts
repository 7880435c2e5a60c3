// Entry point of the lerobot-data executable: cli-kit's runMain (typed errors: one line, exit 1; usage: 2).
import { runMain } from '@vla-lora/cli-kit';
import { runCli } from './cli.js';
import { LeRobotDataError } from './errors.js';

await runMain(() => runCli(process.argv.slice(2)), { name: 'lerobot-data', typedErrors: [LeRobotDataError] });
