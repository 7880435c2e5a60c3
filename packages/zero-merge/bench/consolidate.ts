// Benchmark (not a test): consolidate a >= 4 GB synthetic ZeRO-3 checkpoint of 8 ranks with the
// zero-merge CLI; report wall time, MB/s next to reading the same files once, CPU time, peak RSS
// (/usr/bin/time), load average, and check sampled output tensors exactly against the generator's formula.
//   pnpm --filter @vla-lora/zero-merge bench
//   BENCH_DIR=/tmp BENCH_LAYERS=6 BENCH_RANKS=8 BENCH_STAGE=3 BENCH_KEEP=1 (checkpoint reused when present)
//   BENCH_ARGS='--dtype fp32' (extra CLI arguments)
// bench/peer.ts runs DeepSpeed's zero_to_fp32 beside it; bench/phases.ts says where the time goes.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  bytesOf,
  checkpointDir,
  checkSampled,
  ensureCheckpoint,
  mb,
  OUT_DIR,
  RANKS,
  rate,
  runZeroMerge,
  STAGE,
  warm,
} from './common.js';

const KEEP = process.env['BENCH_KEEP'] === '1';
const EXTRA = (process.env['BENCH_ARGS'] ?? '').split(' ').filter(Boolean);

async function main(): Promise<void> {
  const files = await ensureCheckpoint();
  const ckptBytes = bytesOf(files);
  console.log(`checkpoint: ZeRO-${STAGE}, ${RANKS} ranks, ${files.length} files, ${mb(ckptBytes)}`);
  const catS = await warm(files);
  console.log(`read all files once (warms the page cache): ${catS.toFixed(2)} s, ${rate(ckptBytes, catS)}`);

  const out = join(OUT_DIR, `zero-merge-bench-out-z${STAGE}`);
  const r = runZeroMerge(out, EXTRA);
  console.log(
    `zero-merge ${checkpointDir} ${out}${EXTRA.length ? ` ${EXTRA.join(' ')}` : ''}: ${r.result.tensors} tensors, ${r.result.files.length} output file(s), ${mb(r.result.bytes)} written`,
  );
  console.log(
    `  wall ${r.wallS.toFixed(2)} s | CPU ${(r.userS + r.systemS).toFixed(2)} s (user ${r.userS.toFixed(2)}, system ${r.systemS.toFixed(2)}) | ${rate(ckptBytes, r.wallS)} of checkpoint | ${rate(r.result.bytes, r.wallS)} written | peak RSS ${r.peakRssMb.toFixed(0)} MB | load ${r.loadBefore} -> ${r.loadAfter}`,
  );
  console.log(`  checked ${await checkSampled(r.result.files)} output tensors exactly against the generator`);
  if (!KEEP) rmSync(out, { recursive: true, force: true });
}

await main();
