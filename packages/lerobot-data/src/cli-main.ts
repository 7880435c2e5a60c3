// Entry point of the lerobot-data executable.
import { LeRobotDataError } from './errors.js';
import { runCli } from './cli.js';

try {
  process.exitCode = await runCli(process.argv.slice(2));
} catch (err) {
  if (err instanceof LeRobotDataError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    process.stderr.write(`lerobot-data: ${(err as Error).name}: ${(err as Error).message}\n`);
    process.exitCode = 1;
  } else {
    throw err;
  }
}
