// The policy server under chaos (a child process, so that a crash is an exit): a small
// deterministic policy, 1 MiB frame limit, memory samples (after a full GC) as JSON lines.
//   node --expose-gc --import tsx scripts/chaos/server-child.ts
import {
  BadRequestError,
  float32NdArray,
  NdArray,
  ndArrayToFloat64,
  startPolicyServer,
} from '../../packages/policy-server/src/index.js';

const server = await startPolicyServer({
  port: 0,
  maxFrameBytes: 1 << 20,
  policy: {
    metadata: { action_horizon: 4, action_dim: 3 },
    infer(obs) {
      const state = obs['observation/state'];
      if (!(state instanceof NdArray)) throw new BadRequestError('missing "observation/state" (float array)');
      if (state.shape.length !== 1 || state.shape[0] !== 8)
        throw new BadRequestError(`"observation/state" must have shape [8], got [${state.shape.join(', ')}]`);
      const s = ndArrayToFloat64(state);
      const mean = s.reduce((a, v) => a + v, 0) / s.length;
      const out = new Float32Array(12);
      for (let i = 0; i < 12; i++) out[i] = mean * (i + 1);
      return { actions: float32NdArray(out, [4, 3]) };
    },
  },
});
process.stdout.write(`${JSON.stringify({ event: 'port', port: server.port })}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
const sample = (): void => {
  gc?.();
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ event: 'mem', rss: m.rss, heapUsed: m.heapUsed, external: m.external, connections: server.connections })}\n`,
  );
};
setInterval(sample, 250).unref();
process.once('SIGTERM', () => {
  sample();
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
