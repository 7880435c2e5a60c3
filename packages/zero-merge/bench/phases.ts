// Benchmark (not a test): where zero-merge's consolidation time goes. Runs `consolidate` in this
// process on the checkpoint bench/consolidate.ts generated (run that first; it keeps the
// checkpoint), with every node:fs/promises FileHandle read / write / sync / close timed and its
// bytes counted: read, write and fsync time and bytes/s; the rest is CPU work in this thread
// (pickle parsing, ZeRO reconstruction, dtype conversion, safetensors headers). Process CPU time and
// peak RSS (/proc/self/status VmHWM) are reported beside it.
//   node --import tsx bench/phases.ts          BENCH_DIR / BENCH_STAGE / BENCH_RANKS / BENCH_LAYERS as
//   consolidate.ts; BENCH_DTYPE=keep|fp32|bf16|fp16 (fp32: every frozen bf16 tensor converted);
//   BENCH_WINDOW_MB / BENCH_CHUNK_MB: consolidate's windowBytes / chunkBytes
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { consolidate, parseOutputDtype } from '../src/index.js';

const DIR = process.env['BENCH_DIR'] ?? '/tmp';
const STAGE = Number(process.env['BENCH_STAGE'] ?? '3');
const RANKS = Number(process.env['BENCH_RANKS'] ?? '8');
const LAYERS = Number(process.env['BENCH_LAYERS'] ?? '6');
const DTYPE = process.env['BENCH_DTYPE'] ?? 'keep';
/** consolidate's windowBytes / chunkBytes (read-ahead per rank view, largest piece held), MB; default theirs. */
const WINDOW = process.env['BENCH_WINDOW_MB'];
const CHUNK = process.env['BENCH_CHUNK_MB'];
const ckpt = join(DIR, `zero-merge-bench-z${STAGE}-r${RANKS}-l${LAYERS}`);
const out = join(process.env['BENCH_OUT_DIR'] ?? DIR, `zero-merge-bench-phases-z${STAGE}`);
if (!existsSync(join(ckpt, '.complete'))) {
  console.error(`no checkpoint at ${ckpt}: run \`node --import tsx bench/consolidate.ts\` first (same BENCH_* env)`);
  process.exit(2);
}

interface Phase {
  ms: number;
  bytes: number;
  calls: number;
}
const phases: Record<'read' | 'write' | 'fsync' | 'close', Phase> = {
  read: { ms: 0, bytes: 0, calls: 0 },
  write: { ms: 0, bytes: 0, calls: 0 },
  fsync: { ms: 0, bytes: 0, calls: 0 },
  close: { ms: 0, bytes: 0, calls: 0 },
};
// time every FileHandle call of the process (the prototype is shared by all handles)
const probe = await open(ckpt + '/.complete', 'r');
const proto = Object.getPrototypeOf(probe) as Record<string, (...a: unknown[]) => Promise<unknown>>;
await probe.close();
const wrap = (method: string, phase: keyof typeof phases, bytesOf: (r: unknown) => number): void => {
  const orig = proto[method]!;
  proto[method] = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const t0 = performance.now();
    const r = await orig.apply(this, args);
    const p = phases[phase];
    p.ms += performance.now() - t0;
    p.calls++;
    p.bytes += bytesOf(r);
    return r;
  };
};
const n = (k: string) => (r: unknown) => ((r as Record<string, number> | undefined)?.[k] ?? 0) as number;
wrap('read', 'read', n('bytesRead'));
wrap('write', 'write', n('bytesWritten'));
wrap('writev', 'write', n('bytesWritten'));
wrap('sync', 'fsync', () => 0);
wrap('datasync', 'fsync', () => 0);
wrap('close', 'close', () => 0);

rmSync(out, { recursive: true, force: true });
const load0 = loadavg();
const c0 = process.cpuUsage();
const t0 = performance.now();
const res = await consolidate(ckpt, out, {
  dtype: parseOutputDtype(DTYPE),
  ...(WINDOW ? { windowBytes: Number(WINDOW) * 2 ** 20 } : {}),
  ...(CHUNK ? { chunkBytes: Number(CHUNK) * 2 ** 20 } : {}),
});
const wall = performance.now() - t0;
const cpu = process.cpuUsage(c0);
const hwm = /VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
const io = phases.read.ms + phases.write.ms + phases.fsync.ms + phases.close.ms;
const rate = (b: number, ms: number): string => (ms > 0 ? `${(b / 1e6 / (ms / 1000)).toFixed(0)} MB/s` : '-');
console.log(
  `consolidate ${ckpt} (ZeRO-${STAGE}, ${RANKS} ranks, --dtype ${DTYPE}, window ${WINDOW ?? 'default'} MB, chunk ${CHUNK ?? 'default'} MB): ${res.tensors} tensors, ${(res.bytes / 1e6).toFixed(0)} MB written in ${res.files.length} file(s)`,
);
console.log(
  `wall ${(wall / 1000).toFixed(2)} s, process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, system ${(cpu.system / 1e6).toFixed(2)}), peak RSS ${hwm ? (Number(hwm) / 1024).toFixed(0) : '?'} MB`,
);
console.log('phase                         wall s   share   bytes        rate       calls');
for (const [name, p] of Object.entries(phases))
  console.log(
    `${name.padEnd(28)} ${(p.ms / 1000).toFixed(2).padStart(7)} ${((100 * p.ms) / wall).toFixed(1).padStart(6)}%  ${`${(p.bytes / 1e6).toFixed(0)} MB`.padStart(9)}  ${rate(p.bytes, p.ms).padStart(10)}  ${String(p.calls).padStart(6)}`,
  );
console.log(
  `${'CPU work (parse, reconstruct,'.padEnd(28)} ${((wall - io) / 1000).toFixed(2).padStart(7)} ${((100 * (wall - io)) / wall).toFixed(1).padStart(6)}%  ${`${(res.bytes / 1e6).toFixed(0)} MB`.padStart(9)}  ${rate(res.bytes, wall - io).padStart(10)}   (the rest of the wall time)`,
);
console.log(' dtype conversion, headers)');
console.log(
  `load average at start ${load0.map((x) => x.toFixed(1)).join(' / ')}, at end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ')} (a shared machine: the IO phases include waiting for the disk and for a core)`,
);
rmSync(out, { recursive: true, force: true });
