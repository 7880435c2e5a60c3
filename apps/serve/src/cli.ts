// vla-serve entry point: parse, load + verify, serve; cli-kit's runMain prints a one-line reason and
// exits non-zero on any refusal (2 for usage errors, 3 for a hostile pickle, 1 otherwise). SIGTERM / SIGINT: finish in-flight requests, close
// clients with 1001, exit 0.
//
// tfjs-core's gradient files (imported by lora-core) have extensionless relative imports that plain
// Node's ESM loader refuses; tfjs-backend's registerAllGradients installs the resolve hook for them,
// so it runs before anything that imports lora-core is loaded (hence the dynamic imports).
import { runMain } from '@vla-lora/cli-kit';
import { registerAllGradients } from '@vla-lora/tfjs-backend';
import { parseServeArgs } from './args.js';
import { ServeUsageError } from './errors.js';

await registerAllGradients();
const { listConfigs } = await import('@vla-lora/pi0');
const { startServe } = await import('./serve.js');

const log = (line: string): void => {
  process.stdout.write(`vla-serve: ${line}\n`);
};

async function main(argv: string[]): Promise<number | null> {
  const parsed = parseServeArgs(argv);
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return 0;
  }
  if (parsed.kind === 'list-configs') {
    for (const c of listConfigs()) process.stdout.write(`${c.name}\t${c.description}\n`);
    return 0;
  }
  const running = await startServe(parsed.args, log);
  const stop = (signal: string): void => {
    log(`${signal}: finishing in-flight requests and closing`);
    running.close().then(
      () => {
        log(`closed after ${running.served.requestCount} requests`);
        process.exit(0);
      },
      (err: unknown) => {
        process.stderr.write(`vla-serve: error while closing: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return null;
}

await runMain(() => main(process.argv.slice(2)), { name: 'vla-serve', usageErrors: [ServeUsageError] });
