// A child process for the shutdown test: serves a slow policy (INFER_MS per request) and, on
// SIGTERM, closes the server the way vla-serve does and exits 0. Prints `port <n>` once listening
// and one JSON line per server event on stdout.
import { float32NdArray } from '../src/protocol/ndarray.js';
import { startPolicyServer } from '../src/server.js';

const inferMs = Number(process.env['INFER_MS'] ?? '400');
const server = await startPolicyServer({
  port: 0,
  policy: {
    metadata: { action_horizon: 1, action_dim: 1 },
    async infer() {
      await new Promise((r) => setTimeout(r, inferMs));
      return { actions: float32NdArray(Float32Array.from([1]), [1, 1]) };
    },
  },
  log: (e) => process.stdout.write(`${JSON.stringify(e)}\n`),
});
process.stdout.write(`port ${server.port}\n`);
process.once('SIGTERM', () => {
  server.close().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`close failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
});
