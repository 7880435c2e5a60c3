// Benchmark (not a test): zero-merge beside DeepSpeed's own zero_to_fp32.py on the same checkpoint.
//   pnpm --filter @vla-lora/zero-merge bench:peer        (needs Debian's /usr/bin/python3 + python3-torch)
//   BENCH_REPEAT=3 (pairs of runs), BENCH_PHASES=0 (skip the phase breakdown), BENCH_CLEAN=1 (delete the
//   checkpoint at the end), BENCH_PEER_LOAD=mmap|eager, and consolidate.ts's BENCH_DIR / BENCH_LAYERS / ...
//
// 1. The peer is proven first: bench/peer/run.py (DeepSpeed's zero_to_fp32.py, vendored unmodified, on
//    torch 1.13 through a small shim, see bench/peer/run.py) must reproduce fixtures/zero/*/expected.safetensors
//    exactly (bench/peer/compare.py), or nothing is timed.
// 2. The synthetic checkpoint of bench/consolidate.ts (ZeRO-3, 8 ranks, bf16, 4,259 MB) is generated or reused.
// 3. BENCH_REPEAT pairs, the order alternating, each run on a warm page cache (every rank file read just
//    before): the zero-merge CLI writes OUT/model.safetensors (fsynced, renamed into place); zero_to_fp32 writes
//    OUT/pytorch_model.bin with torch.save (no fsync: run.py fsyncs it afterwards and reports that apart).
//    Wall, user + system CPU and peak RSS from /usr/bin/time, the load average before and after.
// 4. After the first pair, the two outputs are compared tensor by tensor (same names, dtypes, shapes, bytes).
// 5. bench/phases.ts: where zero-merge's time goes (read, dtype conversion, write, fsync, bytes/s).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bytesOf,
  checkpointDir,
  checkSampled,
  ensureCheckpoint,
  load,
  mb,
  measure,
  OUT_DIR,
  RANKS,
  runZeroMerge,
  STAGE,
  warm,
  type Measured,
} from './common.js';

const PYTHON = '/usr/bin/python3';
const PEER = fileURLToPath(new URL('./peer/run.py', import.meta.url));
const COMPARE = fileURLToPath(new URL('./peer/compare.py', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../../fixtures/zero/', import.meta.url));
const REPEAT = Number(process.env['BENCH_REPEAT'] ?? '3');
const PEER_LOAD = process.env['BENCH_PEER_LOAD'] ?? 'mmap';

interface PeerResult {
  bytes: number;
  files: string[];
  torch: string;
  startup_s: number;
  convert_s: number;
  fsync_s: number;
  peak_rss_mb: number;
  peak_anon_mb: number;
  peak_file_mb: number;
}

function python(args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
}

function compare(theirs: string, ours: string[]): { ok: boolean; tensors: number; equal: number; bytes: number } {
  const r = python([COMPARE, theirs, ...ours]);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  if (!line.startsWith('{')) throw new Error(`compare.py failed (${r.status}): ${r.stderr}`);
  return JSON.parse(line) as { ok: boolean; tensors: number; equal: number; bytes: number };
}

/** zero_to_fp32 through run.py must give the fixtures' expected tensors exactly before it is timed. */
function provePeer(): void {
  const tmp = mkdtempSync(join(OUT_DIR, 'zero-merge-peer-fixtures-'));
  try {
    for (const fx of ['zero3-w4-bf16', 'zero2-w3-fp16']) {
      for (const [flag, expected] of [
        [[], 'expected.safetensors'],
        [['--exclude-frozen'], 'expected-nofrozen.safetensors'],
      ] as const) {
        const out = join(tmp, `${fx}${flag.length ? '-nofrozen' : ''}`);
        const r = python([PEER, join(FIXTURES, fx, 'checkpoint-5000'), out, '--load', PEER_LOAD, ...flag]);
        if (r.status !== 0) throw new Error(`zero_to_fp32 failed on fixtures/zero/${fx}: ${r.stderr}`);
        const c = compare(join(out, 'pytorch_model.bin'), [join(FIXTURES, fx, expected)]);
        if (!c.ok)
          throw new Error(`zero_to_fp32 on fixtures/zero/${fx} does not give ${expected}: ${JSON.stringify(c)}`);
        console.log(`  fixtures/zero/${fx} ${flag.join(' ')}: ${c.equal}/${c.tensors} tensors equal to ${expected}`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

function runPeer(out: string): Measured & { peer: PeerResult } {
  rmSync(out, { recursive: true, force: true });
  const json = `${out}.json`;
  const m = measure(PYTHON, [PEER, checkpointDir, out, '--load', PEER_LOAD, '--fsync', '--json', json]);
  const peer = JSON.parse(readFileSync(json, 'utf8')) as PeerResult;
  rmSync(json, { force: true });
  return { ...m, peer };
}

const s2 = (x: number): string => x.toFixed(2);
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main(): Promise<void> {
  const probe = python(['-c', 'import torch; print(torch.__version__)']);
  if (probe.status !== 0) {
    console.error(`bench:peer needs ${PYTHON} with torch (apt-get install python3-torch): ${probe.stderr.trim()}`);
    process.exit(2);
  }
  const head = readFileSync(fileURLToPath(new URL('./peer/PROVENANCE', import.meta.url)), 'utf8').trim();
  console.log(
    `peer: DeepSpeed zero_to_fp32.py (${head.split('\n')[0]}) on torch ${probe.stdout.trim()}, load ${PEER_LOAD}`,
  );
  provePeer();

  const files = await ensureCheckpoint();
  const ckptBytes = bytesOf(files);
  console.log(`checkpoint: ZeRO-${STAGE}, ${RANKS} ranks, bf16, ${files.length} files, ${mb(ckptBytes)}`);
  const oursOut = join(OUT_DIR, 'zero-merge-peer-ours');
  const theirsOut = join(OUT_DIR, 'zero-merge-peer-theirs');
  const rows: Array<{ ours: ReturnType<typeof runZeroMerge>; theirs: ReturnType<typeof runPeer> }> = [];
  for (let i = 0; i < REPEAT; i++) {
    const runOurs = async () => {
      await warm(files);
      return runZeroMerge(oursOut);
    };
    const runTheirs = async () => {
      await warm(files);
      return runPeer(theirsOut);
    };
    let ours: ReturnType<typeof runZeroMerge>;
    let theirs: ReturnType<typeof runPeer>;
    if (i % 2 === 0) {
      ours = await runOurs();
      theirs = await runTheirs();
    } else {
      theirs = await runTheirs();
      ours = await runOurs();
    }
    rows.push({ ours, theirs });
    const o = ours;
    const t = theirs;
    console.log(
      `run ${i + 1} (${i % 2 === 0 ? 'ours first' : 'theirs first'}):\n` +
        `  zero-merge    wall ${s2(o.wallS)} s, CPU ${s2(o.userS + o.systemS)} s (user ${s2(o.userS)}, system ${s2(o.systemS)}), peak RSS ${o.peakRssMb.toFixed(0)} MB, ${mb(o.result.bytes)} written + fsynced, load ${o.loadBefore} -> ${o.loadAfter}\n` +
        `  zero_to_fp32  wall ${s2(t.wallS)} s (python + torch import ${s2(t.peer.startup_s)}, convert ${s2(t.peer.convert_s)}, then fsync ${s2(t.peer.fsync_s)}), CPU ${s2(t.userS + t.systemS)} s (user ${s2(t.userS)}, system ${s2(t.systemS)}), peak RSS ${t.peakRssMb.toFixed(0)} MB (anon ${t.peer.peak_anon_mb.toFixed(0)}, file ${t.peer.peak_file_mb.toFixed(0)}), ${mb(t.peer.bytes)} written, load ${t.loadBefore} -> ${t.loadAfter}\n` +
        `  ours / theirs: wall ${(o.wallS / (t.wallS - t.peer.fsync_s)).toFixed(2)}× (theirs without its fsync), ${(o.wallS / t.wallS).toFixed(2)}× (with); CPU ${((o.userS + o.systemS) / (t.userS + t.systemS)).toFixed(2)}×`,
    );
    if (i === 0) {
      const c = compare(join(theirsOut, 'pytorch_model.bin'), o.result.files);
      if (!c.ok) throw new Error(`zero-merge's output differs from zero_to_fp32's: ${JSON.stringify(c)}`);
      console.log(
        `  outputs: ${c.equal}/${c.tensors} tensors of zero_to_fp32's pytorch_model.bin equal zero-merge's model.safetensors (names, dtypes, shapes, ${mb(c.bytes)} of bytes); ${await checkSampled(o.result.files)} sampled tensors equal the generator's values`,
      );
    }
    rmSync(oursOut, { recursive: true, force: true });
    rmSync(theirsOut, { recursive: true, force: true });
  }
  const oursWall = rows.map((r) => r.ours.wallS);
  const theirsWall = rows.map((r) => r.theirs.wallS - r.theirs.peer.fsync_s);
  const ratios = rows.map((r) => r.ours.wallS / (r.theirs.wallS - r.theirs.peer.fsync_s));
  console.log(
    `summary over ${rows.length} pairs: zero-merge ${s2(Math.min(...oursWall))}–${s2(Math.max(...oursWall))} s (median ${s2(median(oursWall))}), peak RSS ≤ ${Math.max(...rows.map((r) => r.ours.peakRssMb)).toFixed(0)} MB; zero_to_fp32 ${s2(Math.min(...theirsWall))}–${s2(Math.max(...theirsWall))} s without fsync (median ${s2(median(theirsWall))}), peak RSS ≤ ${Math.max(...rows.map((r) => r.theirs.peakRssMb)).toFixed(0)} MB; ours/theirs ${s2(Math.min(...ratios))}–${s2(Math.max(...ratios))}× (median ${s2(median(ratios))}); load now ${load()}`,
  );

  if (process.env['BENCH_PHASES'] !== '0') {
    console.log('\nwhere zero-merge spends it (bench/phases.ts, in-process, same checkpoint, warm cache):');
    const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./phases.ts', import.meta.url))], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error(`phases.ts failed (${r.status})`);
  }
  if (process.env['BENCH_CLEAN'] === '1') rmSync(checkpointDir, { recursive: true, force: true });
}

await main();
