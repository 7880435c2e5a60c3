// Benchmark (not a test): consolidate a >= 4 GB synthetic ZeRO-3 checkpoint of 8 ranks with the
// zero-merge CLI; report wall time, MB/s next to `cat` of the same files, peak RSS (/usr/bin/time),
// and check sampled output tensors exactly against the generator's formula.
//   pnpm --filter @vla-lora/zero-merge bench
//   BENCH_DIR=/tmp BENCH_LAYERS=6 BENCH_RANKS=8 BENCH_STAGE=3 BENCH_KEEP=1 (checkpoint reused when present)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors } from '@vla-lora/checkpoint-io';
import { loraModelParams, synthExpected, writeSyntheticCheckpoint, type SynthOptions } from '../scripts/synthetic.js';

const DIR = process.env['BENCH_DIR'] ?? '/tmp';
const STAGE = Number(process.env['BENCH_STAGE'] ?? '3') as 1 | 2 | 3;
const RANKS = Number(process.env['BENCH_RANKS'] ?? '8');
const LAYERS = Number(process.env['BENCH_LAYERS'] ?? '6');
const KEEP = process.env['BENCH_KEEP'] === '1';
/** Where the output goes (default BENCH_DIR); e.g. /dev/shm to take the output disk out of the figure. */
const OUT_DIR = process.env['BENCH_OUT_DIR'] ?? DIR;
const EXTRA = (process.env['BENCH_ARGS'] ?? '').split(' ').filter(Boolean);
const BIN = fileURLToPath(new URL('../bin/zero-merge.mjs', import.meta.url));

const spec: SynthOptions = {
  stage: STAGE,
  worldSize: RANKS,
  dtype: 'bf16',
  params: loraModelParams({ layers: LAYERS, hidden: 4096, mlp: 11008, vocab: 32000, rank: 64, head: [8192, 8192] }),
  buffers: [{ name: 'action_head.running_mean', shape: [1024] }],
  shared: [['base_model.model.lm_head.weight', 'base_model.model.model.embed_tokens.weight']],
  adapterConfig: {
    peft_type: 'LORA',
    r: 64,
    lora_alpha: 128,
    target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
  },
};

const mb = (b: number): string => `${(b / 1e6).toFixed(0)} MB`;
const rate = (b: number, s: number): string => `${(b / 1e6 / s).toFixed(0)} MB/s`;

function filesOf(tagDir: string): string[] {
  return readdirSync(tagDir)
    .filter((f) => f.endsWith('.pt'))
    .map((f) => join(tagDir, f))
    .sort();
}

async function main(): Promise<void> {
  const ckpt = join(DIR, `zero-merge-bench-z${STAGE}-r${RANKS}-l${LAYERS}`);
  const out = join(OUT_DIR, `zero-merge-bench-out-z${STAGE}`);
  const stamp = join(ckpt, '.complete');
  const fs = statfsSync(DIR);
  const free = fs.bavail * fs.bsize;
  console.log(`free space in ${DIR}: ${mb(free)}`);
  if (!existsSync(stamp)) {
    if (free < 9e9) throw new Error(`need ~9 GB free in ${DIR} (checkpoint + output), have ${mb(free)}; set BENCH_DIR`);
    rmSync(ckpt, { recursive: true, force: true });
    const t0 = performance.now();
    await writeSyntheticCheckpoint(ckpt, spec);
    writeFileSync(stamp, JSON.stringify({ layers: LAYERS, ranks: RANKS, stage: STAGE }));
    console.log(`generated ${ckpt} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } else console.log(`reusing ${ckpt}`);
  const files = filesOf(join(ckpt, 'global_step1'));
  const ckptBytes = files.reduce((a, f) => a + statSync(f).size, 0);
  console.log(`checkpoint: ZeRO-${STAGE}, ${RANKS} ranks, ${files.length} files, ${mb(ckptBytes)}`);

  // cat of the same files (page cache as warm as for the run below: both read right after generation)
  const c0 = performance.now();
  execFileSync('sh', ['-c', `cat ${files.map((f) => `'${f}'`).join(' ')} > /dev/null`]);
  const catS = (performance.now() - c0) / 1000;
  console.log(`cat all files: ${catS.toFixed(2)} s, ${rate(ckptBytes, catS)}`);

  rmSync(out, { recursive: true, force: true });
  const r0 = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', '%M %e', process.execPath, BIN, ckpt, out, '--json', '-q'], {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
  });
  const wallS = (performance.now() - r0) / 1000;
  if (run.status !== 0) throw new Error(`zero-merge failed (${run.status}): ${run.stderr}`);
  const [rssKb] = run.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  const result = JSON.parse(run.stdout) as { bytes: number; tensors: number; files: string[] };
  console.log(
    `zero-merge ${ckpt} ${out}${EXTRA.length ? ` ${EXTRA.join(' ')}` : ''}: ${result.tensors} tensors, ${result.files.length} output file(s), ${mb(result.bytes)} written`,
  );
  console.log(
    `  wall ${wallS.toFixed(2)} s | ${rate(ckptBytes, wallS)} of checkpoint | ${rate(result.bytes, wallS)} written | peak RSS ${(rssKb! / 1024).toFixed(0)} MB`,
  );

  // exact check of sampled tensors (the largest ones included)
  const reader = await openSafetensors(out);
  const names = [
    'base_model.model.model.embed_tokens.weight',
    'base_model.model.lm_head.weight',
    'action_head.layers.1.weight',
    'action_head.layers.1.bias',
    'action_head.running_mean',
    `base_model.model.model.layers.${LAYERS - 1}.mlp.down_proj.base_layer.weight`,
    'base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight',
    `base_model.model.model.layers.${LAYERS - 1}.mlp.up_proj.lora_B.default.weight`,
  ];
  let checked = 0;
  for (const n of names) {
    if (!reader.has(n)) continue;
    checked++;
    const got = await reader.read(n);
    const exp = synthExpected(spec, n);
    if (
      got.dtype !== exp.dtype ||
      JSON.stringify(got.shape) !== JSON.stringify(exp.shape) ||
      !Buffer.from(got.bytes).equals(Buffer.from(exp.bytes))
    ) {
      throw new Error(`output tensor ${n} differs from the generator's values`);
    }
  }
  await reader.close();
  console.log(`  checked ${checked} output tensors exactly against the generator`);
  if (!KEEP) rmSync(out, { recursive: true, force: true });
}

await main();
