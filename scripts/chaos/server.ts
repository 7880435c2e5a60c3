// 32 clients hammer the policy server (a child process) with valid requests, malformed frames of
// many kinds, oversized frames and abrupt disconnects, N requests in all. Pass: the server never
// exits, every request gets the documented answer (actions, a BadRequestError text frame, or a
// 1009 close for an oversized frame) within 10 s, memory after GC is flat, and SIGTERM exits 0.
//   tsx scripts/chaos/server.ts [--requests 10000] [--clients 32] [--seed 3]
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { numFlag, prng, ROOT, sleep, summary } from './common.js';

const argv = process.argv.slice(2);
const total = numFlag(argv, 'requests', 10_000);
const nClients = numFlag(argv, 'clients', 32);
const rand = prng(numFlag(argv, 'seed', 3));

// ws and msgpackr are the policy server's own dependencies.
const req = createRequire(join(ROOT, 'packages', 'policy-server', 'package.json'));
// Typed here by what this script uses (the root has neither package's types).
interface Ws {
  send(data: Uint8Array | string): void;
  terminate(): void;
  close(): void;
  on(event: 'message', fn: (data: Buffer, binary: boolean) => void): void;
  on(event: 'close', fn: (code: number) => void): void;
  on(event: 'error', fn: (err: Error) => void): void;
  once(event: 'open', fn: () => void): void;
  once(event: 'error', fn: (err: Error) => void): void;
}
const WebSocket = req('ws') as new (url: string, opts: { perMessageDeflate: boolean; maxPayload: number }) => Ws;
const { Packr } = req('msgpackr') as { Packr: new (o: { useRecords: boolean }) => { pack(v: unknown): Buffer } };
const packr = new Packr({ useRecords: false });

const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', join(ROOT, 'scripts/chaos/server-child.ts')], {
  cwd: join(ROOT, 'packages', 'policy-server'),
  stdio: ['ignore', 'pipe', 'pipe'],
});
let childErr = '';
child.stderr.on('data', (d: Buffer) => (childErr += d.toString()));
const mem: Array<{ rss: number; heapUsed: number }> = [];
let exitInfo: { code: number | null; signal: string | null; at: number } | null = null;
const childExit = new Promise<void>((r) =>
  child.on('exit', (code, signal) => {
    exitInfo = { code, signal, at: performance.now() };
    r();
  }),
);
const port = await new Promise<number>((resolve, reject) => {
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const m = JSON.parse(line) as { event: string; port?: number; rss?: number; heapUsed?: number };
      if (m.event === 'port') resolve(m.port as number);
      if (m.event === 'mem') mem.push({ rss: m.rss as number, heapUsed: m.heapUsed as number });
      i = buf.indexOf('\n');
    }
  });
  child.once('exit', () => reject(new Error(`server child exited at start:\n${childErr}`)));
});

const b = (s: string) => Buffer.from(s);
const nd = (dtype: string, shape: unknown, data: Uint8Array) =>
  new Map<Buffer, unknown>([
    [b('__ndarray__'), true],
    [b('data'), Buffer.from(data)],
    [b('dtype'), dtype],
    [b('shape'), shape],
  ]);
const state8 = () => new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]).buffer);
const valid = () => packr.pack({ 'observation/state': nd('<f4', [8], state8()), prompt: 'go' });
const floatShape = (): Buffer => {
  const v = valid();
  // the msgpack positive fixint 8 of "shape" → float64 8.0 (0xcb …)
  const i = v.indexOf(Buffer.from([0x91, 0x08]));
  const f = Buffer.alloc(9);
  f[0] = 0xcb;
  f.writeDoubleBE(8, 1);
  return Buffer.concat([v.subarray(0, i + 1), f, v.subarray(i + 2)]);
};
const deep = (n: number): unknown => (n === 0 ? 1 : [deep(n - 1)]);
// Each malformed kind: the frame to send (binary unless a string).
const MALFORMED: Array<[string, () => Uint8Array | string]> = [
  ['random bytes', () => Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => (rand() * 256) | 0))],
  ['truncated frame', () => valid().subarray(0, 10 + Math.floor(rand() * 40))],
  ['text frame', () => '{"observation/state": [1,2,3]}'],
  ['array, not a map', () => packr.pack([1, 2, 3])],
  ['nil', () => Buffer.from([0xc0])],
  ['missing state', () => packr.pack({ prompt: 'x' })],
  ['object dtype', () => packr.pack({ 'observation/state': nd('|O', [8], new Uint8Array(8)) })],
  ['byte length ≠ shape', () => packr.pack({ 'observation/state': nd('<f4', [8], new Uint8Array(5)) })],
  ['float shape [8.0]', floatShape],
  ['negative dim', () => packr.pack({ 'observation/state': nd('<f4', [-8], state8()) })],
  ['huge dims', () => packr.pack({ 'observation/state': nd('<f4', [2 ** 40, 2 ** 40], state8()) })],
  ['shape not a list', () => packr.pack({ 'observation/state': nd('<f4', 'eight', state8()) })],
  ['wrong shape', () => packr.pack({ 'observation/state': nd('>f8', [4], new Uint8Array(32)) })],
  ['data not bytes', () => packr.pack({ 'observation/state': nd('<f4', [8], new Uint8Array(0)).set(b('data'), 'x') })],
  ['deep nesting', () => packr.pack({ x: deep(200) })],
  ['ext type', () => Buffer.from([0x81, 0xa1, 0x78, 0xd4, 0x05, 0x00])],
  ['reserved byte 0xc1', () => Buffer.from([0x81, 0xa1, 0x78, 0xc1])],
  ['map32 claiming 4e9 entries', () => Buffer.from([0xdf, 0xff, 0xff, 0xff, 0xff, 0xa1, 0x78])],
  ['bin32 claiming 4 GB', () => Buffer.from([0x81, 0xa1, 0x78, 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00])],
  [
    'npgeneric bad',
    () =>
      packr.pack({
        g: new Map<Buffer, unknown>([
          [b('__npgeneric__'), true],
          [b('data'), 'x'],
          [b('dtype'), 1],
        ]),
      }),
  ],
  ['ndarray in a list', () => packr.pack({ l: [nd('<q9', [1], new Uint8Array(1))] })],
];

type Outcome = 'actions' | 'bad-request' | 'closed-1009' | 'unexpected' | 'timeout' | 'disconnect';
const counts: Record<Outcome, number> = {
  actions: 0,
  'bad-request': 0,
  'closed-1009': 0,
  unexpected: 0,
  timeout: 0,
  disconnect: 0,
};
const kindsSeen = new Set<string>();
const unexpected: string[] = [];
let sent = 0;

interface Conn {
  ws: Ws;
  next(ms: number): Promise<{ data: Buffer; binary: boolean } | { closed: number } | 'timeout'>;
}
async function connect(): Promise<Conn> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false, maxPayload: 1 << 24 });
  const inbox: Array<{ data: Buffer; binary: boolean } | { closed: number }> = [];
  const waiters: Array<(m: { data: Buffer; binary: boolean } | { closed: number }) => void> = [];
  const push = (m: { data: Buffer; binary: boolean } | { closed: number }) => {
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  };
  ws.on('message', (data: Buffer, binary: boolean) => push({ data, binary }));
  ws.on('close', (code: number) => push({ closed: code }));
  ws.on('error', () => undefined);
  await new Promise<void>((res, rej) => {
    ws.once('open', () => res());
    ws.once('error', rej);
  });
  const conn: Conn = {
    ws,
    next(ms) {
      const m = inbox.shift();
      if (m) return Promise.resolve(m);
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          const i = waiters.indexOf(fn);
          if (i >= 0) waiters.splice(i, 1);
          resolve('timeout');
        }, ms);
        const fn = (v: { data: Buffer; binary: boolean } | { closed: number }) => {
          clearTimeout(timer);
          resolve(v);
        };
        waiters.push(fn);
      });
    },
  };
  await conn.next(10_000); // metadata
  return conn;
}

async function client(): Promise<void> {
  let c = await connect();
  while (sent < total && exitInfo === null) {
    sent++;
    const r = rand();
    if (r < 0.1) {
      // Abrupt disconnect: a request goes out (maybe half of it), then the socket is destroyed.
      c.ws.send(valid());
      if (rand() < 0.5) await sleep(rand() * 3);
      c.ws.terminate();
      counts.disconnect++;
      c = await connect();
      continue;
    }
    if (r < 0.12) {
      c.ws.send(Buffer.alloc((1 << 20) + 100 + Math.floor(rand() * 1000)));
      const m = await c.next(10_000);
      if (typeof m === 'object' && 'closed' in m && m.closed === 1009) counts['closed-1009']++;
      else {
        counts.unexpected++;
        unexpected.push(`oversized frame → ${JSON.stringify(m)}`);
      }
      c.ws.terminate();
      c = await connect();
      continue;
    }
    let expect: 'actions' | 'bad-request' = 'actions';
    let kind = 'valid';
    if (r < 0.32) {
      const [k, make] = MALFORMED[Math.floor(rand() * MALFORMED.length)] as [string, () => Uint8Array | string];
      kind = k;
      kindsSeen.add(k);
      expect = 'bad-request';
      c.ws.send(make());
    } else c.ws.send(valid());
    const m = await c.next(10_000);
    if (m === 'timeout') {
      counts.timeout++;
      unexpected.push(`${kind}: no answer in 10 s`);
      c.ws.terminate();
      c = await connect();
      continue;
    }
    const got: Outcome =
      'closed' in m
        ? 'unexpected'
        : m.binary
          ? 'actions'
          : m.data.toString().startsWith('BadRequestError: ')
            ? 'bad-request'
            : 'unexpected';
    if (got === expect) counts[got]++;
    else {
      counts.unexpected++;
      if (unexpected.length < 10)
        unexpected.push(
          `${kind}: expected ${expect}, got ${'closed' in m ? `close ${m.closed}` : m.data.toString().slice(0, 120)}`,
        );
      if ('closed' in m) c = await connect();
    }
  }
  c.ws.close();
}

const t0 = performance.now();
await Promise.all(Array.from({ length: nClients }, () => client()));
const seconds = (performance.now() - t0) / 1000;
const healthz = exitInfo === null ? (await fetch(`http://127.0.0.1:${port}/healthz`)).status : 0;
await sleep(600); // two more memory samples with every client gone
const crashed = exitInfo !== null;
const tTerm = performance.now();
child.kill('SIGTERM');
await childExit;
const done = exitInfo as unknown as { code: number | null; at: number };
const termMs = done.at - tTerm;

const mb = (x: number) => `${(x / 2 ** 20).toFixed(1)} MiB`;
const tenth = Math.max(1, Math.floor(mem.length / 10));
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] as number;
const heapFirst = median(mem.slice(1, 1 + tenth).map((m) => m.heapUsed));
const heapLast = median(mem.slice(-tenth).map((m) => m.heapUsed));
const rssFirst = median(mem.slice(1, 1 + tenth).map((m) => m.rss));
const rssLast = median(mem.slice(-tenth).map((m) => m.rss));
const rssMax = Math.max(...mem.map((m) => m.rss));
const flat = heapLast < heapFirst * 1.5 + 2 ** 20;
for (const u of unexpected) process.stdout.write(`UNEXPECTED ${u}\n`);
summary('server', !crashed && counts.unexpected === 0 && counts.timeout === 0 && flat && done.code === 0, [
  ['requests', `${sent} from ${nClients} clients in ${seconds.toFixed(1)} s`],
  ['answered with actions', counts.actions],
  [`malformed → BadRequestError text frame (${kindsSeen.size} kinds)`, counts['bad-request']],
  ['oversized frame → close 1009', counts['closed-1009']],
  ['abrupt disconnects (request sent, socket destroyed)', counts.disconnect],
  ['unexpected answers / timeouts', `${counts.unexpected} / ${counts.timeout}`],
  ['server crashes', crashed ? `1 (exit ${JSON.stringify(exitInfo)}): ${childErr.slice(-400)}` : 0],
  ['/healthz after the storm', healthz],
  [
    'memory after GC (median of first / last 10% of samples)',
    `heapUsed ${mb(heapFirst)} → ${mb(heapLast)}, rss ${mb(rssFirst)} → ${mb(rssLast)} (max ${mb(rssMax)}), ${mem.length} samples`,
  ],
  ['SIGTERM → exit', `code ${done.code} in ${termMs.toFixed(0)} ms`],
]);
