// Benchmark: forward + backward + AdamW step of Gemma + LoRA (r=8 on all seven projections) on the
// selected tfjs backend, next to the same model and step in Debian's torch (scripts/torch_gemma.py)
// at 1 and 2 threads (TORCH_THREADS=1,2). Debian's torch calls libblas.so.3: the header names which
// BLAS that is (OpenBLAS once libopenblas0-pthread is installed; the reference BLAS is no fair peer).
// Ratios are ours / the faster torch run, in wall time and in CPU time (user + system; the machine
// may be shared: CPU time is the steadier figure).
// Ours names its GEMM (wasm: the system OpenBLAS through koffi, or XNNPACK; VLA_BLAS=off forces XNNPACK).
// Usage: npx tsx bench/run.ts gemma-step.ts [steps=3]     (VLA_BACKEND=wasm|cpu|... to choose)
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { namedParameters } from '@vla-lora/lora-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { gemmaWithLora, randomIds, TINY_GEMMA, wideGemma } from './gemma-lora.js';

interface AdamWLike {
  step(grads: Map<string, tf.Tensor>, lr?: number): void;
}
type AdamWCtor = new (
  params: Map<string, tf.Variable>,
  opts: { lr: number; betas: [number, number]; eps: number; weightDecay: number },
) => AdamWLike;

const steps = Number(process.argv[2] ?? 3);
const info = await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'auto' });
// The trainer owns AdamW (torch semantics); models cannot depend on it (the trainer depends on models).
const { AdamW } = (await import(new URL('../../trainer/src/optim/index.ts', import.meta.url).href)) as {
  AdamW: AdamWCtor;
};

const cases = [
  { name: 'tiny (fixture shapes) b2 s12', cfg: TINY_GEMMA, batch: 2, seq: 12 },
  { name: 'tiny b8 s128', cfg: TINY_GEMMA, batch: 8, seq: 128 },
  { name: 'wide h512 L4 b8 s128', cfg: wideGemma(), batch: 8, seq: 128 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface TorchRun {
  torch: string;
  threads: number;
  /** OpenBLAS's own pool, pinned to `threads` (torch.set_num_threads alone does not reach it); null: not OpenBLAS */
  blasThreads: number | null;
  blas: { kind: string; build: string | null; loaded: string[]; alternative: string | null };
  msPerStep: number[];
  cpuMsPerStep: number[];
}
const torchThreads = (process.env['TORCH_THREADS'] ?? '1,2').split(',').map(Number);
const load0 = loadavg();
let blas: TorchRun['blas'] | null = null;
const results = [];
for (const c of cases) {
  const model = gemmaWithLora(c.cfg);
  const trainable = namedParameters(model).filter(([, v]) => v.trainable);
  const opt = new AdamW(new Map(trainable), { lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.01 });
  const ids = randomIds(c.batch, c.seq, c.cfg.vocab_size);
  const times: number[] = [];
  const cpu: number[] = [];
  for (let s = 0; s <= steps; s++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const { value, grads } = tf.variableGrads(
      () => model.loss(ids, ids),
      trainable.map(([, v]) => v),
    );
    opt.step(new Map(trainable.map(([n, v]) => [n, grads[v.name]!])));
    value.dataSync();
    value.dispose();
    Object.values(grads).forEach((g) => g.dispose());
    if (s > 0) {
      // step 0 is warm-up
      times.push(performance.now() - t0);
      const u = process.cpuUsage(c0);
      cpu.push((u.user + u.system) / 1000);
    }
  }
  // torch at each thread count (TORCH_THREADS, default 1,2); the ratio is against the faster run
  const peers: TorchRun[] = [];
  let torchError: string | null = null;
  for (const threads of torchThreads) {
    try {
      const script = fileURLToPath(new URL('../scripts/torch_gemma.py', import.meta.url));
      const out = execFileSync(
        '/usr/bin/python3',
        [script, JSON.stringify({ config: c.cfg, batch: c.batch, seq: c.seq, rank: 8, steps, threads })],
        { encoding: 'utf8', timeout: 600_000 },
      );
      const r = JSON.parse(out.trim().split('\n').pop()!) as TorchRun;
      peers.push(r);
      blas = r.blas;
    } catch (e) {
      torchError = `Debian torch not available: ${(e as Error).message.split('\n')[0]}`;
      break;
    }
  }
  const ours = median(times);
  const oursCpu = median(cpu);
  const best = peers.length === 0 ? null : peers.reduce((a, b) => (median(a.msPerStep) <= median(b.msPerStep) ? a : b));
  results.push({
    case: c.name,
    backend: info.name,
    gemm:
      info.gemm === null ? null : `${info.gemm.vendor}${info.gemm.threads === null ? '' : ` x${info.gemm.threads}`}`,
    tfjsMsPerStep: Math.round(ours),
    tfjsCpuMsPerStep: Math.round(oursCpu),
    torch:
      peers.length === 0
        ? torchError
        : peers.map((r) => ({
            threads: r.threads,
            blasThreads: r.blasThreads,
            msPerStep: Math.round(median(r.msPerStep)),
            cpuMsPerStep: Math.round(median(r.cpuMsPerStep)),
          })),
    bestTorchThreads: best?.threads ?? null,
    ratioOursOverBestTorch: best === null ? null : Number((ours / median(best.msPerStep)).toFixed(2)),
    cpuRatioOursOverBestTorch: best === null ? null : Number((oursCpu / median(best.cpuMsPerStep)).toFixed(2)),
    loadAvg1: Number(loadavg()[0]!.toFixed(1)),
  });
  console.log(JSON.stringify(results[results.length - 1]));
}
console.log(
  `backend: ${info.description}; load average 1/5/15 min at start ${load0.map((x) => x.toFixed(1)).join(' ')}, at end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; ${steps} timed steps after 1 warm-up, median; CPU = user + system time of the process (both sides).`,
);
if (blas !== null) {
  console.log(
    `torch BLAS: ${blas.kind} (torch built BLAS_INFO=${blas.build}; libblas.so.3 -> ${blas.alternative}; loaded: ${blas.loaded.join(', ')})`,
  );
  if (blas.kind !== 'OpenBLAS' && blas.kind !== 'MKL')
    console.log(
      'torch is on the reference BLAS: not a fair speed peer. `apt-get install libopenblas0-pthread` switches it to OpenBLAS.',
    );
}
