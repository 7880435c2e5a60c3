// Benchmark (not a test): where zero-merge's consolidation time goes. Runs `consolidate` in this
// process on the checkpoint bench/consolidate.ts generated (generated here too when absent), after
// reading its files once (warm page cache), with
// - every node:fs/promises FileHandle read / write / sync / close timed and its bytes counted
//   (read, write, fsync: wall time and bytes/s);
// - the V8 CPU profiler on (node:inspector, 1 ms samples): the main-thread time inside the dtype conversion
//   (convertBytes / castFloat / toFloat32) is "dtype conversion"; the top self-time functions are listed;
// - reads and writes overlap (the next chunk is read while one is written), and the main thread works while
//   they are in flight: the file phases are wall time in flight (the time with a read and a write at once is
//   printed); the main thread's time is split by the profile into conversion, other work (pickle parsing,
//   reconstruction, GC, safetensors headers) and idle (waiting for file operations).
// Process CPU time (user, system), peak RSS (/proc/self/status VmHWM) and the load average are printed.
//   node --import tsx bench/phases.ts          BENCH_DIR / BENCH_STAGE / BENCH_RANKS / BENCH_LAYERS as
//   consolidate.ts; BENCH_DTYPE=keep|fp32|bf16|fp16 (fp32: every frozen bf16 tensor converted);
//   BENCH_WINDOW_MB / BENCH_CHUNK_MB: consolidate's windowBytes / chunkBytes; BENCH_JSON=file: the figures as JSON
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { consolidate, openZeroCheckpoint, outputDtype, parseOutputDtype, reconstruct } from '../src/index.js';
import { itemsizeOf } from '../src/dtypes.js';
import { bytesOf, checkpointDir, ensureCheckpoint, load, OUT_DIR, RANKS, STAGE, warm } from './common.js';

const DTYPE = process.env['BENCH_DTYPE'] ?? 'keep';
/** consolidate's windowBytes / chunkBytes (read-ahead per rank view, largest piece held), MB; default theirs. */
const WINDOW = process.env['BENCH_WINDOW_MB'];
const CHUNK = process.env['BENCH_CHUNK_MB'];
const JSON_OUT = process.env['BENCH_JSON'];
const CONVERT_FUNCTIONS = new Set(['convertBytes', 'castFloat', 'toFloat32']);

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

/** Reads and writes overlap (zero-merge reads the next chunk while it writes one): wall time with any file
 * operation in flight, and with a read and a write in flight together. */
const inFlight = { read: 0, write: 0, fsync: 0, close: 0 };
const overlap = { anyMs: 0, readWriteMs: 0, last: 0 };
function transition(): void {
  const now = performance.now();
  const dt = now - overlap.last;
  if (inFlight.read + inFlight.write + inFlight.fsync + inFlight.close > 0) overlap.anyMs += dt;
  if (inFlight.read > 0 && inFlight.write > 0) overlap.readWriteMs += dt;
  overlap.last = now;
}

function instrumentFileHandles(proto: Record<string, (...a: unknown[]) => Promise<unknown>>): void {
  const wrap = (method: string, phase: keyof typeof phases, bytesOf: (r: unknown) => number): void => {
    const orig = proto[method]!;
    proto[method] = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      transition();
      inFlight[phase]++;
      const t0 = performance.now();
      try {
        const r = await orig.apply(this, args);
        const p = phases[phase];
        p.ms += performance.now() - t0;
        p.calls++;
        p.bytes += bytesOf(r);
        return r;
      } finally {
        transition();
        inFlight[phase]--;
      }
    };
  };
  const n = (k: string) => (r: unknown) => ((r as Record<string, number> | undefined)?.[k] ?? 0) as number;
  wrap('read', 'read', n('bytesRead'));
  wrap('write', 'write', n('bytesWritten'));
  wrap('writev', 'write', n('bytesWritten'));
  wrap('sync', 'fsync', () => 0);
  wrap('datasync', 'fsync', () => 0);
  wrap('close', 'close', () => 0);
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Main-thread ms inside the conversion functions, idle, in all; and the top self-time functions. */
function attribute(profile: Profile): {
  convertMs: number;
  idleMs: number;
  totalMs: number;
  top: Array<[string, number]>;
} {
  const parent = new Map<number, number>();
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const inConvert = new Map<number, boolean>();
  const converts = (id: number): boolean => {
    const known = inConvert.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id)!;
    const p = parent.get(id);
    const v = CONVERT_FUNCTIONS.has(node.callFrame.functionName) || (p !== undefined && converts(p));
    inConvert.set(id, v);
    return v;
  };
  let convertUs = 0;
  let idleUs = 0;
  let totalUs = 0;
  const self = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    totalUs += dt;
    if (converts(id)) convertUs += dt;
    if (byId.get(id)!.callFrame.functionName === '(idle)') idleUs += dt;
    const f = byId.get(id)!.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(packages|node_modules)\//, '')}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const top = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 8)
    .map(([k, us]): [string, number] => [k, us / 1000]);
  return { convertMs: convertUs / 1000, idleMs: idleUs / 1000, totalMs: totalUs / 1000, top };
}

async function main(): Promise<void> {
  const files = await ensureCheckpoint();
  const out = join(OUT_DIR, `zero-merge-bench-phases-z${STAGE}`);
  const dtype = parseOutputDtype(DTYPE);
  // bytes that go through a dtype conversion (pickles only: no tensor data is read here)
  const ck = await openZeroCheckpoint(checkpointDir);
  let convertBytesOut = 0;
  try {
    for (const t of reconstruct(ck).tensors) {
      const to = outputDtype(t.dtype, dtype);
      if (to !== t.dtype) convertBytesOut += t.numel * itemsizeOf(to);
    }
  } finally {
    await ck.close();
  }
  const warmS = await warm(files);

  const probe = await open(files[0]!, 'r');
  instrumentFileHandles(Object.getPrototypeOf(probe) as Record<string, (...a: unknown[]) => Promise<unknown>>);
  await probe.close();
  for (const p of Object.values(phases)) Object.assign(p, { ms: 0, bytes: 0, calls: 0 });
  Object.assign(overlap, { anyMs: 0, readWriteMs: 0, last: performance.now() });

  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  rmSync(out, { recursive: true, force: true });
  const load0 = load();
  const c0 = process.cpuUsage();
  await session.post('Profiler.start');
  const t0 = performance.now();
  const res = await consolidate(checkpointDir, out, {
    dtype,
    ...(WINDOW ? { windowBytes: Number(WINDOW) * 2 ** 20 } : {}),
    ...(CHUNK ? { chunkBytes: Number(CHUNK) * 2 ** 20 } : {}),
  });
  const wall = performance.now() - t0;
  const { profile } = (await session.post('Profiler.stop')) as unknown as { profile: Profile };
  const cpu = process.cpuUsage(c0);
  const load1 = load();
  session.disconnect();
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024;
  const { convertMs, idleMs, totalMs, top } = attribute(profile);
  const otherMs = totalMs - idleMs - convertMs;
  const rate = (b: number, ms: number): string =>
    ms > 0 && b > 0 ? `${(b / 1e6 / (ms / 1000)).toFixed(0)} MB/s` : '-';
  const ckptBytes = bytesOf(files);
  console.log(
    `consolidate ${checkpointDir} (ZeRO-${STAGE}, ${RANKS} ranks, ${(ckptBytes / 1e6).toFixed(0)} MB, --dtype ${DTYPE}, window ${WINDOW ?? 'default'} MB, chunk ${CHUNK ?? 'default'} MB): ${res.tensors} tensors, ${(res.bytes / 1e6).toFixed(0)} MB written in ${res.files.length} file(s); files read once first in ${warmS.toFixed(2)} s`,
  );
  console.log(
    `wall ${(wall / 1000).toFixed(2)} s, process CPU ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s (user ${(cpu.user / 1e6).toFixed(2)}, system ${(cpu.system / 1e6).toFixed(2)}), peak RSS ${hwm.toFixed(0)} MB, load average ${load0} -> ${load1}`,
  );
  const rows: Array<[string, number, number, number | string]> = [
    ['read (page cache warm), in flight', phases.read.ms, phases.read.bytes, phases.read.calls],
    ['write, in flight', phases.write.ms, phases.write.bytes, phases.write.calls],
    ['fsync', phases.fsync.ms, 0, phases.fsync.calls],
    ['main thread: dtype conversion', convertMs, convertBytesOut, '(CPU profile)'],
    ['main thread: other work', otherMs, 0, '(CPU profile: parse, gather, GC, headers)'],
    ['main thread: idle', idleMs, 0, '(CPU profile: waiting for file operations)'],
  ];
  console.log('phase                                  wall s   share      bytes        rate   calls');
  for (const [name, ms, bytes, calls] of rows)
    console.log(
      `${name.padEnd(37)} ${(ms / 1000).toFixed(2).padStart(7)} ${((100 * ms) / wall).toFixed(1).padStart(6)}%  ${bytes ? `${(bytes / 1e6).toFixed(0)} MB`.padStart(9) : '-'.padStart(9)}  ${rate(bytes, ms).padStart(10)}   ${calls}`,
    );
  console.log(
    `file operations in flight ${(overlap.anyMs / 1000).toFixed(2)} s of the ${(wall / 1000).toFixed(2)} s; a read and a write at once ${(overlap.readWriteMs / 1000).toFixed(2)} s (read and write overlap by that much; the main thread works while they are in flight)`,
  );
  console.log(
    `top self time (CPU profile, main thread): ${top.map(([k, ms]) => `${k} ${ms.toFixed(0)} ms`).join('; ')}`,
  );
  if (JSON_OUT)
    writeFileSync(
      JSON_OUT,
      JSON.stringify({
        wallS: wall / 1000,
        userS: cpu.user / 1e6,
        systemS: cpu.system / 1e6,
        peakRssMb: hwm,
        load: [load0, load1],
        bytesWritten: res.bytes,
        phases: Object.fromEntries(rows.map(([name, ms, bytes]) => [name, { s: ms / 1000, bytes }])),
        ioInFlightS: overlap.anyMs / 1000,
        readWriteOverlapS: overlap.readWriteMs / 1000,
      }),
    );
  rmSync(out, { recursive: true, force: true });
}

await main();
