// Benchmark: streamed merge of a LoRA adapter into a SHARDED bf16 base of >= 1 GB (Llama-like widths:
// hidden 2048, mlp 5632, 7 targets per layer, r 16), writing a sharded output with its index.
// Reports wall time, throughput and peak RSS (VmHWM) of the merging process; the base is generated
// by a child process first so its memory does not count.
// Run: cd packages/lora-core && npx tsx bench/merge-sharded.bench.ts
// Env: BENCH_LAYERS (default 11: 1.1 GB), BENCH_DIR (default a fresh dir under the OS tmpdir; removed after).
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fromFloat32,
  savePeftAdapter,
  writeSafetensorsSharded,
  type RawTensor,
  type SafetensorsEntry,
} from '@vla-lora/checkpoint-io';
import { mergeAdapterIntoSafetensors } from '../src/merge-file.js';
import { lcgFloats, lcgStates } from '@vla-lora/seeded-random/test-support';

const H = 2048;
const F = 5632;
const R = 16;
const LAYERS = Number(process.env['BENCH_LAYERS'] ?? 11);
const MODULES: Array<[string, number, number]> = [
  ['self_attn.q_proj', H, H],
  ['self_attn.k_proj', H, H],
  ['self_attn.v_proj', H, H],
  ['self_attn.o_proj', H, H],
  ['mlp.gate_proj', F, H],
  ['mlp.up_proj', F, H],
  ['mlp.down_proj', H, F],
];

function peakRssMb(): number {
  const s = spawnSync('cat', [`/proc/${process.pid}/status`], { encoding: 'utf8' }).stdout;
  const m = /VmHWM:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** bf16 values of magnitude ~2^-7..2^-1, random signs and mantissas, generated in 4 MB chunks. */
function bf16Chunks(n: number, seed: number): { chunks: () => AsyncIterable<Uint8Array> } {
  return {
    async *chunks() {
      const next = lcgStates(seed);
      const per = 2 << 20;
      for (let at = 0; at < n; at += per) {
        const k = Math.min(per, n - at);
        const u = new Uint16Array(k);
        for (let i = 0; i < k; i++) {
          const s = next();
          u[i] = ((s >>> 31) << 15) | ((120 + ((s >>> 24) & 7)) << 7) | ((s >>> 8) & 0x7f);
        }
        yield new Uint8Array(u.buffer);
      }
    },
  };
}

async function makeBase(dir: string): Promise<void> {
  const entries: SafetensorsEntry[] = [];
  let seed = 1;
  entries.push({
    name: 'model.embed_tokens.weight',
    dtype: 'BF16',
    shape: [32000, H],
    data: bf16Chunks(32000 * H, seed++),
  });
  for (let l = 0; l < LAYERS; l++) {
    for (const [m, o, i] of MODULES)
      entries.push({
        name: `model.layers.${l}.${m}.weight`,
        dtype: 'BF16',
        shape: [o, i],
        data: bf16Chunks(o * i, seed++),
      });
    for (const n of ['input_layernorm', 'post_attention_layernorm'])
      entries.push({ name: `model.layers.${l}.${n}.weight`, dtype: 'BF16', shape: [H], data: bf16Chunks(H, seed++) });
  }
  entries.push({ name: 'model.norm.weight', dtype: 'BF16', shape: [H], data: bf16Chunks(H, seed++) });
  await writeSafetensorsSharded(dir, entries, { maxShardSize: 200 << 20, metadata: { format: 'pt' } });
}

/** Values uniform in [-width/2, width/2). */
const rand = (n: number, seed: number, width: number): Float32Array => lcgFloats(n, seed, width / 2);

async function dirBytes(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir)) n += (await stat(join(dir, f))).size;
  return n;
}

if (process.argv[2] === '--make-base') {
  await makeBase(process.argv[3]!);
  process.exit(0);
}

const root = process.env['BENCH_DIR'] ?? (await mkdtemp(join(tmpdir(), 'lora-merge-bench-')));
try {
  const baseDir = join(root, 'base');
  let t0 = performance.now();
  const made = spawnSync(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), '--make-base', baseDir],
    {
      stdio: 'inherit',
    },
  );
  if (made.status !== 0) throw new Error('generating the base failed');
  const baseBytes = await dirBytes(baseDir);
  const shards = (await readdir(baseDir)).filter((f) => f.endsWith('.safetensors')).length;
  console.log(
    `base: ${(baseBytes / 1e9).toFixed(2)} GB bf16 in ${shards} shards, ${LAYERS} layers (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s by a child process)`,
  );

  const tensors = new Map<string, RawTensor>();
  let seed = 1000;
  for (let l = 0; l < LAYERS; l++)
    for (const [m, o, i] of MODULES) {
      tensors.set(
        `base_model.model.model.layers.${l}.${m}.lora_A.default.weight`,
        fromFloat32(rand(R * i, seed++, 0.05), [R, i], 'F32'),
      );
      tensors.set(
        `base_model.model.model.layers.${l}.${m}.lora_B.default.weight`,
        fromFloat32(rand(o * R, seed++, 0.05), [o, R], 'F32'),
      );
    }
  const adapterDir = join(root, 'adapter');
  await savePeftAdapter(adapterDir, {
    config: {
      peft_type: 'LORA',
      r: R,
      lora_alpha: 32,
      target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
    },
    tensors,
  });
  tensors.clear();
  const adapterBytes = await dirBytes(adapterDir);
  console.log(`adapter: r=${R}, ${LAYERS * MODULES.length} modules, ${(adapterBytes / 1e6).toFixed(1)} MB (F32)`);

  const rssBefore = peakRssMb();
  t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const rep = await mergeAdapterIntoSafetensors(baseDir, adapterDir, join(root, 'merged'));
  const secs = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const outBytes = await dirBytes(join(root, 'merged'));
  const index = JSON.parse(await readFile(join(root, 'merged', 'model.safetensors.index.json'), 'utf8')) as {
    weight_map: Record<string, string>;
  };
  console.log(
    `merge: ${rep.merged.length} weights merged, ${rep.copied} copied -> ${rep.output.shards} shards + index (${Object.keys(index.weight_map).length} tensors), ${(outBytes / 1e9).toFixed(2)} GB in ${secs.toFixed(1)} s (${(baseBytes / 1e6 / secs).toFixed(0)} MB/s of base); CPU ${(cpu.user / 1e6).toFixed(1)} s user + ${(cpu.system / 1e6).toFixed(1)} s sys`,
  );
  console.log(
    `peak RSS of this process: ${peakRssMb().toFixed(0)} MB (before the merge: ${rssBefore.toFixed(0)} MB; the adapter alone is ${(adapterBytes / 1e6).toFixed(0)} MB)`,
  );
} finally {
  if (!process.env['BENCH_DIR']) await rm(root, { recursive: true, force: true });
}
