// Benchmark: consolidate SYNTHETIC DCP checkpoints (bench/synthetic.ts — our own writer, not a reference; the
// correctness ground truth is the PyTorch-written fixtures/dcp) of two sizes with the CLI in a child process, and
// report wall time, throughput and the child's peak RSS. Peak RSS must not grow with the checkpoint.
// Sampled output tensors are checked row by row against the generator.
//   pnpm --filter @vla-lora/dcp-merge bench          (BENCH_GB=2.4 BENCH_SMALL_GB=0.7 BENCH_WORLD=8 BENCH_DIR=/tmp)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors } from '@vla-lora/checkpoint-io';
import { fillRow, rowBytes, writeSyntheticDcp, type SyntheticTensor } from './synthetic.js';

const BIN = fileURLToPath(new URL('../bin/dcp-merge.mjs', import.meta.url));
const WORLD = Number(process.env.BENCH_WORLD ?? 8);

/** A 4096-wide bf16 transformer (7 projections a layer, LoRA r=64 in fp32 on each) with `layers` layers. */
function model(layers: number): SyntheticTensor[] {
  const h = 4096;
  const ff = 11008;
  const out: SyntheticTensor[] = [{ name: 'embed_tokens.weight', dtype: 'bfloat16', shape: [32064, h] }];
  for (let l = 0; l < layers; l++) {
    const projs: Array<[string, number, number]> = [
      ['self_attn.q_proj', h, h],
      ['self_attn.k_proj', h, h],
      ['self_attn.v_proj', h, h],
      ['self_attn.o_proj', h, h],
      ['mlp.gate_proj', ff, h],
      ['mlp.up_proj', ff, h],
      ['mlp.down_proj', h, ff],
    ];
    for (const [p, o, i] of projs) {
      out.push({ name: `layers.${l}.${p}.base_layer.weight`, dtype: 'bfloat16', shape: [o, i] });
      out.push({ name: `layers.${l}.${p}.lora_A.default.weight`, dtype: 'float32', shape: [64, i] });
      out.push({ name: `layers.${l}.${p}.lora_B.default.weight`, dtype: 'float32', shape: [o, 64] });
    }
    out.push({ name: `layers.${l}.input_layernorm.weight`, dtype: 'float32', shape: [h] });
  }
  return out;
}

function bytesOf(ts: SyntheticTensor[]): number {
  return ts.reduce((a, t) => a + (t.shape[0] as number) * rowBytes(t), 0);
}

async function runOnce(gb: number, base: string): Promise<Record<string, number | string>> {
  let layers = 1;
  while (bytesOf(model(layers + 1)) <= gb * 1e9) layers++;
  const tensors = model(layers);
  const dir = join(base, `dcp-${gb}`);
  const out = join(base, `out-${gb}.safetensors`);
  const t0 = Date.now();
  const onDisk = await writeSyntheticDcp(dir, tensors, WORLD);
  const genS = (Date.now() - t0) / 1000;
  const timeBin = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'MAXRSS_KB=%M'] : [];
  const cmd = [...timeBin, process.execPath, BIN, dir, out, '-q', '--overwrite'];
  const t1 = Date.now();
  const r = spawnSync(cmd[0] as string, cmd.slice(1), { encoding: 'utf8' });
  const wall = (Date.now() - t1) / 1000;
  if (r.status !== 0) throw new Error(`dcp-merge failed: ${r.stderr}`);
  const rss = /MAXRSS_KB=(\d+)/.exec(r.stderr)?.[1];
  // check a few tensors row by row against the generator
  const f = await openSafetensors(out);
  let checked = 0;
  try {
    for (const ti of [0, 1, 2, tensors.length - 2]) {
      const t = tensors[ti] as SyntheticTensor;
      const raw = await f.read(t.name);
      const rb = rowBytes(t);
      const want = new Uint8Array(rb);
      for (let row = 0; row < (t.shape[0] as number); row++) {
        fillRow(want, ti, row);
        if (!Buffer.from(raw.bytes.subarray(row * rb, (row + 1) * rb)).equals(Buffer.from(want)))
          throw new Error(`${t.name} row ${row} differs`);
      }
      checked++;
    }
  } finally {
    await f.close();
  }
  await rm(dir, { recursive: true, force: true });
  await rm(out, { force: true });
  return {
    layers,
    tensors: tensors.length,
    files: tensors.length * WORLD,
    checkpointMB: Math.round(onDisk / 1e6),
    generateS: genS,
    consolidateS: wall,
    MBps: Math.round(onDisk / 1e6 / wall),
    peakRssMB: rss ? Math.round(Number(rss) / 1024) : 'n/a (no /usr/bin/time)',
    tensorsChecked: checked,
  };
}

const base = await mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'dcp-bench-'));
try {
  for (const gb of [Number(process.env.BENCH_SMALL_GB ?? 0.7), Number(process.env.BENCH_GB ?? 2.4)]) {
    const r = await runOnce(gb, base);
    console.log(JSON.stringify({ synthetic: true, world: WORLD, targetGB: gb, ...r }));
  }
} finally {
  await rm(base, { recursive: true, force: true });
}
