// The benchmark's server process: the tiny run's policy behind the real policy server (as vla-serve
// builds it), plus an IPC channel for the parent to read this process's memory and to time the
// in-process call of the same policy. Started by serve-bench.ts with child_process.fork.
import { registerAllGradients, initBackend } from '@vla-lora/tfjs-backend';

await registerAllGradients();
const tf = await import('@tensorflow/tfjs-core');
const { startPolicyServer, float32NdArray, uint8NdArray } = await import('@vla-lora/policy-server');
const { loadPolicy } = await import('../src/load-policy.js');
const { ServedPi0, parseLiberoRequest } = await import('@vla-lora/pi0');
const { makeTinyRun, tinyObservation } = await import('@vla-lora/pi0/test-support');

const [root, backendName, merge] = process.argv.slice(2) as [string, string, string];
const backend = await initBackend({ backend: backendName });
const run = await makeTinyRun(root);
const loaded = await loadPolicy({
  config: run.config,
  baseWeights: run.baseDir,
  adapter: run.adapterDir,
  merge: merge === 'merge',
});
const served = new ServedPi0({
  policy: loaded.policy,
  trainConfig: loaded.trainConfig,
  normStats: loaded.normStats,
  summary: loaded.summary,
});
const server = await startPolicyServer({ policy: served, host: '127.0.0.1', port: 0 });
// the protocol alone: the same server with a policy that only parses the request (same checks) and
// returns a fixed chunk of the same shape
const fixed = new Float32Array(served.horizon * served.actionDims);
const floor = await startPolicyServer({
  host: '127.0.0.1',
  port: 0,
  policy: {
    metadata: served.metadata,
    infer: (obs) => {
      parseLiberoRequest(obs, { imageSize: served.imageSize, stateDim: served.stateDim });
      return { actions: float32NdArray(fixed, [served.horizon, served.actionDims]), policy_timing: { infer_ms: 0 } };
    },
  },
});

function memory(): Record<string, number> {
  const m = process.memoryUsage();
  const t = tf.memory();
  return {
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    tfTensors: t.numTensors,
    tfBytes: t.numBytes,
    requests: served.requestCount,
  };
}

async function inProcess(n: number): Promise<number[]> {
  const o = tinyObservation(1);
  const obs = {
    'observation/image': uint8NdArray(o.image, [32, 32, 3]),
    'observation/wrist_image': uint8NdArray(o.wristImage, [32, 32, 3]),
    'observation/state': float32NdArray(o.state, [8]),
    prompt: o.prompt,
  };
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await served.infer(obs);
    out.push(performance.now() - t0);
  }
  return out;
}

process.on('message', (msg: { cmd: string; n?: number }) => {
  if (msg.cmd === 'memory') {
    global.gc?.();
    process.send!({ cmd: 'memory', memory: memory() });
  } else if (msg.cmd === 'in-process') {
    void inProcess(msg.n ?? 10).then((times) => process.send!({ cmd: 'in-process', times }));
  } else if (msg.cmd === 'close') {
    void Promise.all([server.close(), floor.close()]).then(() => {
      loaded.dispose();
      process.exit(0);
    });
  }
});
process.send!({
  cmd: 'ready',
  port: server.port,
  floorPort: floor.port,
  backend: backend.description,
  lora: loaded.summary.loraLine,
});
