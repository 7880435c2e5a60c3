// vla-serve benchmark: latency (p50/p99) and requests/s of the tiny pi0 policy over openpi's
// WebSocket protocol with 1, 8 and 32 concurrent clients, next to an in-process call of the same
// policy; the protocol overhead per request (client round trip minus the server's infer_ms); and the
// server's memory (RSS, V8 heap, tfjs tensors) after `--warm` requests vs after `--requests`.
//
//   pnpm --filter @vla-lora/serve bench -- [--per-client 8] [--single 50] [--levels 1,8,32] [--requests 10000] [--warm 100] [--backend wasm] [--merge]
//
// The server runs in its own process (bench/server-child.ts); the clients here encode requests
// with msgpackr as openpi's msgpack_numpy does (binary keys), one request in flight per client.
import { fork } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nd, packr, unpackr } from '@vla-lora/test-openpi-client';
import WebSocket from 'ws';
import { Philox } from '@vla-lora/trainer';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const PER_CLIENT = Number(arg('per-client', '8'));
/** Requests of the single client (more samples for the overhead figure). */
const SINGLE = Number(arg('single', '50'));
const TOTAL = Number(arg('requests', '10000'));
const WARM = Number(arg('warm', '100'));
const BACKEND = arg('backend', 'wasm');
const MERGE = process.argv.includes('--merge');
const LEVELS = arg('levels', '1,8,32').split(',').map(Number);

function requestFrame(seed: number): Uint8Array {
  const r = new Philox(seed, 5);
  const img = (): Uint8Array => Uint8Array.from({ length: 32 * 32 * 3 }, () => Math.floor(r.uniform() * 256));
  const state = Float32Array.from({ length: 8 }, () => r.uniform() * 2 - 1);
  return packr.pack({
    'observation/image': nd('|u1', [32, 32, 3], img()),
    'observation/wrist_image': nd('|u1', [32, 32, 3], img()),
    'observation/state': nd('<f4', [8], new Uint8Array(state.buffer)),
    prompt: 'pick up the black bowl',
  });
}

class Client {
  private ws: WebSocket;
  private waiter: ((b: Buffer) => void) | null = null;
  private first: Promise<void>;
  constructor(url: string) {
    this.ws = new WebSocket(url, { perMessageDeflate: false });
    let gotMeta: () => void;
    this.first = new Promise((r) => (gotMeta = r));
    let meta = false;
    this.ws.on('message', (data: Buffer, binary: boolean) => {
      if (!binary) throw new Error(`server error: ${data.toString()}`);
      if (!meta) {
        meta = true;
        gotMeta();
        return;
      }
      const w = this.waiter;
      this.waiter = null;
      w?.(data);
    });
  }
  ready(): Promise<void> {
    return this.first;
  }
  /** Round trip in ms and the server's infer_ms. */
  async call(frame: Uint8Array): Promise<{ rtt: number; infer: number; prevTotal: number | null }> {
    const t0 = performance.now();
    const reply = new Promise<Buffer>((r) => (this.waiter = r));
    this.ws.send(frame);
    const data = await reply;
    const rtt = performance.now() - t0;
    const m = unpackr.unpack(data) as Map<string, unknown>;
    const timing = m.get('server_timing') as Map<string, number>;
    return { rtt, infer: timing.get('infer_ms')!, prevTotal: timing.get('prev_total_ms') ?? null };
  }
  close(): void {
    this.ws.close();
  }
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
const ms = (x: number): string => x.toFixed(2).padStart(9);
const mb = (x: number): string => `${(x / 2 ** 20).toFixed(1)} MiB`;

const root = await mkdtemp(join(tmpdir(), 'vla-serve-bench-'));
const child = fork(
  fileURLToPath(new URL('./server-child.ts', import.meta.url)),
  [root, BACKEND, MERGE ? 'merge' : 'plain'],
  {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  },
);
const ask = <T>(cmd: string, extra: Record<string, unknown> = {}): Promise<T> =>
  new Promise((resolve) => {
    const on = (m: { cmd: string } & T): void => {
      if (m.cmd === cmd) {
        child.off('message', on);
        resolve(m);
      }
    };
    child.on('message', on);
    child.send({ cmd, ...extra });
  });
const ready = await new Promise<{ port: number; floorPort: number; backend: string; lora: string }>((resolve) =>
  child.once('message', (m) => resolve(m as never)),
);
const url = `ws://127.0.0.1:${ready.port}`;
console.log(`${ready.backend}; tiny pi0 (pi0_libero_lora_tiny), ${ready.lora}; 10 Euler steps, horizon 10`);

const frames = Array.from({ length: 16 }, (_, i) => requestFrame(i));

// warm-up: compile kernels, fill caches
{
  const c = new Client(url);
  await c.ready();
  for (let i = 0; i < 5; i++) await c.call(frames[i % frames.length]!);
  c.close();
}

// memory baseline after WARM requests (4 clients in a closed loop); the rest of TOTAL comes after the latency runs
const c4 = Array.from({ length: 4 }, () => new Client(url));
await Promise.all(c4.map((c) => c.ready()));
const drive = async (until: number): Promise<void> => {
  let done = (await ask<{ memory: Record<string, number> }>('memory')).memory['requests']!;
  const t0 = performance.now();
  let lastPrint = t0;
  await Promise.all(
    c4.map(async (c, i) => {
      while (done < until) {
        done++;
        if (done % 1000 === 0) {
          void ask<{ memory: Record<string, number> }>('memory').then(({ memory: m }) =>
            process.stderr.write(
              `  memory after ${m['requests']} requests: rss ${mb(m['rss']!)}, heapUsed ${mb(m['heapUsed']!)}, tfjs tensors ${m['tfTensors']}\n`,
            ),
          );
        }
        await c.call(frames[(done + i) % frames.length]!);
        if (performance.now() - lastPrint > 30_000) {
          lastPrint = performance.now();
          process.stderr.write(`  ${done}/${until} requests (${((performance.now() - t0) / 1000).toFixed(0)} s)\n`);
        }
      }
    }),
  );
};
await drive(WARM);
const m1 = (await ask<{ memory: Record<string, number> }>('memory')).memory;

// protocol floor: 1 client, a policy that only validates the request
{
  const c = new Client(`ws://127.0.0.1:${ready.floorPort}`);
  await c.ready();
  for (let i = 0; i < 50; i++) await c.call(frames[i % frames.length]!);
  const rtts: number[] = [];
  for (let i = 0; i < 1000; i++) rtts.push((await c.call(frames[i % frames.length]!)).rtt);
  c.close();
  console.log(
    `\nprotocol alone (request validated, fixed 10x7 reply, 1 client, 1000 requests): round trip p50 ${pct(rtts, 50).toFixed(3)} ms, p99 ${pct(rtts, 99).toFixed(3)} ms`,
  );
}

const inproc = (await ask<{ times: number[] }>('in-process', { n: Math.max(10, SINGLE) })).times;
console.log('\nlevel            requests  p50 ms    p99 ms     req/s   overhead p50 ms (rtt - infer_ms)');
console.log(
  `in-process call  ${String(inproc.length).padStart(8)} ${ms(pct(inproc, 50))} ${ms(pct(inproc, 99))} ${(1000 / (inproc.reduce((a, b) => a + b, 0) / inproc.length)).toFixed(2).padStart(9)}`,
);
for (const n of LEVELS) {
  const clients = Array.from({ length: n }, () => new Client(url));
  await Promise.all(clients.map((c) => c.ready()));
  const rtts: number[] = [];
  const overhead: number[] = [];
  const serverSide: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    clients.map(async (c, i) => {
      let prevInfer: number | null = null;
      for (let k = 0; k < (n === 1 ? SINGLE : PER_CLIENT); k++) {
        const r = await c.call(frames[(i + k) % frames.length]!);
        rtts.push(r.rtt);
        overhead.push(r.rtt - r.infer);
        // server side of the previous request: message received -> reply sent, minus its infer_ms
        if (r.prevTotal !== null && prevInfer !== null) serverSide.push(r.prevTotal - prevInfer);
        prevInfer = r.infer;
      }
    }),
  );
  const wall = (performance.now() - t0) / 1000;
  clients.forEach((c) => c.close());
  console.log(
    `${`${n} client${n > 1 ? 's' : ''}`.padEnd(16)} ${String(rtts.length).padStart(8)} ${ms(pct(rtts, 50))} ${ms(pct(rtts, 99))} ${(rtts.length / wall).toFixed(2).padStart(9)}   ${ms(pct(overhead, 50))}${n > 1 ? ' (includes queueing behind other clients)' : `; server side alone (prev_total_ms - infer_ms) p50 ${pct(serverSide, 50).toFixed(3)} ms`}`,
  );
}

await drive(TOTAL);
const m2 = (await ask<{ memory: Record<string, number> }>('memory')).memory;
c4.forEach((c) => c.close());
console.log(`\nserver memory (after gc)   after ${m1['requests']} requests   after ${m2['requests']} requests`);
for (const k of ['rss', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers'] as const)
  console.log(`  ${k.padEnd(24)} ${mb(m1[k]!).padStart(14)}   ${mb(m2[k]!).padStart(14)}`);
console.log(
  `  ${'tfjs tensors'.padEnd(24)} ${String(m1['tfTensors']).padStart(14)}   ${String(m2['tfTensors']).padStart(14)}`,
);
console.log(`  ${'tfjs bytes'.padEnd(24)} ${mb(m1['tfBytes']!).padStart(14)}   ${mb(m2['tfBytes']!).padStart(14)}`);

const exited = new Promise((r) => child.once('exit', r));
child.send({ cmd: 'close' });
await exited;
await rm(root, { recursive: true, force: true });
