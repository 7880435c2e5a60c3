// openpi's Python client side by side: the same Python client (encoding as openpi-client does:
// msgpack_numpy, binary keys; bench/openpi_client_bench.py) against
//   1. vla-serve with the tiny pi0 policy behind it (bench/server-child.ts, as serve-bench.ts runs it),
//   2. vla-serve's protocol floor (same server, a policy that only validates the request),
//   3. a minimal Python websocket server speaking the same protocol (bench/openpi_min_server.py, as
//      openpi's websocket_policy_server.py: asyncio websockets, msgpack_numpy, server_timing).
// Same frames, same client, one request in flight. Reports the round trip and round trip minus the
// server's infer_ms (the protocol's share), p50 / p99; the server's own share of that (its
// prev_total_ms minus the previous infer_ms: receive -> reply sent, outside the policy); and the
// client's CPU time per request.
//
//   pnpm --filter @vla-lora/serve bench:python -- [--requests 300] [--warm 30] [--backend wasm]
// Needs Debian's /usr/bin/python3 with python3-msgpack, python3-websockets, python3-numpy.
import { execFile, fork, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : dflt;
}
const REQUESTS = Number(arg('requests', '300'));
const WARM = Number(arg('warm', '30'));
const BACKEND = arg('backend', 'wasm');
const PY = '/usr/bin/python3';
const here = (f: string): string => fileURLToPath(new URL(f, import.meta.url));

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};

const root = await mkdtemp(join(tmpdir(), 'vla-serve-pyclient-'));
const child = fork(here('./server-child.ts'), [root, BACKEND, 'plain'], {
  execArgv: ['--import', 'tsx'],
  stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
});
const ready = await new Promise<{ port: number; floorPort: number; backend: string; lora: string }>((resolve) =>
  child.once('message', (m) => resolve(m as never)),
);
// the minimal Python server, with the same chunk shape as the tiny policy (horizon 10, 7 dims)
const pyServer = spawn(PY, [here('./openpi_min_server.py'), '10', '7'], { stdio: ['pipe', 'pipe', 'inherit'] });
const pyPort = await new Promise<number>((resolve, reject) => {
  pyServer.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  pyServer.once('exit', (code) => reject(new Error(`openpi_min_server.py exited (${code}) before listening`)));
});

interface ClientOut {
  rtt_ms: number[];
  infer_ms: number[];
  server_side_ms: number[];
  client_cpu_ms: number;
}
const runClient = async (port: number): Promise<ClientOut> => {
  const { stdout } = await promisify(execFile)(
    PY,
    [here('./openpi_client_bench.py'), `ws://127.0.0.1:${port}`, String(WARM), String(REQUESTS)],
    { maxBuffer: 64 * 2 ** 20 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ClientOut;
};

const targets: Array<[string, number]> = [
  ['vla-serve, tiny pi0 policy', ready.port],
  ['vla-serve, protocol floor', ready.floorPort],
  ['Python server (openpi protocol)', pyPort],
];
const load0 = loadavg();
console.log(`${ready.backend}; tiny pi0 (pi0_libero_lora_tiny), ${ready.lora}`);
console.log(
  `openpi-style Python client (msgpack_numpy, asyncio websockets client), ${WARM} warm-up + ${REQUESTS} requests each, 1 in flight\n`,
);
console.log(
  'server                            rtt p50   rtt p99   infer p50   rtt-infer p50   rtt-infer p99   server side p50   client CPU/req',
);
try {
  for (const [name, port] of targets) {
    const r = await runClient(port);
    const over = r.rtt_ms.map((x, i) => x - r.infer_ms[i]!);
    const f = (x: number): string => `${x.toFixed(3)} ms`;
    console.log(
      `${name.padEnd(32)} ${f(pct(r.rtt_ms, 50)).padStart(9)} ${f(pct(r.rtt_ms, 99)).padStart(9)} ${f(pct(r.infer_ms, 50)).padStart(11)} ${f(pct(over, 50)).padStart(15)} ${f(pct(over, 99)).padStart(15)} ${f(pct(r.server_side_ms, 50)).padStart(17)} ${f(r.client_cpu_ms / REQUESTS).padStart(16)}`,
    );
  }
} finally {
  pyServer.stdin.end();
  child.send({ cmd: 'close' });
  await new Promise((r) => child.once('exit', r));
  await rm(root, { recursive: true, force: true });
}
console.log(
  `\nload average (1/5/15 min) at start ${load0.map((x) => x.toFixed(1)).join(' / ')}, at end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')} (on a shared machine the round trips include waiting for a core)`,
);
