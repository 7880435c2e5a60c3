// Protocol cost of the policy server alone: a policy that returns a fixed 10×7 chunk, requests shaped
// like openpi's LIBERO ones (two uint8 images, a float32 state, a prompt), clients in this process
// encoding with msgpackr as openpi's msgpack_numpy does. Round-trip p50/p99 and requests/s with 1, 8
// and 32 clients, and memory after --warm vs --requests requests.
//
//   pnpm --filter @vla-lora/policy-server bench -- [--image 224] [--per-client 500] [--requests 10000] [--warm 100]
import { nd, packr, unpackr } from '@vla-lora/test-openpi-client';
import WebSocket from 'ws';
import { float32NdArray, NdArray, startPolicyServer } from '../src/index.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const IMAGE = Number(arg('image', '224'));
const PER_CLIENT = Number(arg('per-client', '500'));
const TOTAL = Number(arg('requests', '10000'));
const WARM = Number(arg('warm', '100'));

let served = 0;
const chunk = new Float32Array(10 * 7);
const server = await startPolicyServer({
  port: 0,
  policy: {
    metadata: { action_horizon: 10, action_dim: 7 },
    infer(obs) {
      if (!(obs['observation/image'] instanceof NdArray)) throw new Error('bench request without image');
      served++;
      return { actions: float32NdArray(chunk, [10, 7]) };
    },
  },
});

const frame = packr.pack({
  'observation/image': nd('|u1', [IMAGE, IMAGE, 3], new Uint8Array(IMAGE * IMAGE * 3).fill(100)),
  'observation/wrist_image': nd('|u1', [IMAGE, IMAGE, 3], new Uint8Array(IMAGE * IMAGE * 3).fill(50)),
  'observation/state': nd('<f4', [8], new Uint8Array(32)),
  prompt: 'pick up the black bowl',
});

async function client(): Promise<{ call: () => Promise<number>; close: () => void }> {
  const ws = new WebSocket(server.url, { perMessageDeflate: false });
  let waiter: ((b: Buffer) => void) | null = null;
  let meta: () => void;
  const gotMeta = new Promise<void>((r) => (meta = r));
  let first = true;
  ws.on('message', (data: Buffer) => {
    if (first) {
      first = false;
      meta();
      return;
    }
    const w = waiter;
    waiter = null;
    w?.(data);
  });
  await gotMeta;
  return {
    async call() {
      const t0 = performance.now();
      const reply = new Promise<Buffer>((r) => (waiter = r));
      ws.send(frame);
      unpackr.unpack(await reply);
      return performance.now() - t0;
    },
    close: () => ws.close(),
  };
}

const pct = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)]!;
const mb = (x: number): string => `${(x / 2 ** 20).toFixed(1)} MiB`;
const mem = (): NodeJS.MemoryUsage => {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage();
};

console.log(
  `policy-server protocol bench: request frame ${frame.byteLength.toLocaleString('en-US')} bytes (two ${IMAGE}x${IMAGE}x3 uint8 images), fixed 10x7 reply; clients in the same process`,
);
const c0 = await client();
for (let i = 0; i < 200; i++) await c0.call();
c0.close();
console.log('clients  requests   p50 ms   p99 ms    req/s');
for (const n of [1, 8, 32]) {
  const cs = await Promise.all(Array.from({ length: n }, () => client()));
  const per = Math.max(20, Math.floor(PER_CLIENT / Math.sqrt(n)));
  const rtts: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    cs.map(async (c) => {
      for (let k = 0; k < per; k++) rtts.push(await c.call());
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  cs.forEach((c) => c.close());
  console.log(
    `${String(n).padStart(7)} ${String(rtts.length).padStart(9)} ${pct(rtts, 50).toFixed(3).padStart(8)} ${pct(rtts, 99).toFixed(3).padStart(8)} ${(rtts.length / wall).toFixed(0).padStart(8)}`,
  );
}
const c = await client();
const start = served;
while (served - start < WARM) await c.call();
const m1 = mem();
while (served - start < TOTAL) await c.call();
const m2 = mem();
c.close();
console.log(`memory (gc first when --expose-gc)  after ${WARM} requests  after ${TOTAL} requests`);
for (const k of ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers'] as const)
  console.log(`  ${k.padEnd(14)} ${mb(m1[k]).padStart(12)} ${mb(m2[k]).padStart(12)}`);
await server.close();
