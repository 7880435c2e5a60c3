// Benchmark (not a test): one pi0_libero_lora_tiny training step (loss forward + backward + global-norm
// clip + our AdamW, at the config's batch size) on our backend vs the same model in PyTorch
// (Debian's torch at /usr/bin/python3, via bench/torch_pi0_step.py on top of models' torch_pi0.py), at
// 1 and 2 torch threads (TORCH_THREADS=1,2); prints which BLAS torch calls, which GEMM ours runs on
// (wasm: the system OpenBLAS through koffi, or XNNPACK with VLA_BLAS=off), wall and CPU time, and ours /
// the faster torch run.
//   npm run bench:torch -- [steps=20] [warmup=2]        (VLA_BACKEND=wasm|cpu|auto, default: the config's)
// The model is built as training builds it (buildPi0, LoRA injected, freeze policy), one batch from
// the synthetic dataset, noise and flow times drawn once and passed to both sides, so both do the
// identical work every step. Before the figures mean anything the two must agree on the loss for the
// same weights: at init (lora_B = 0) and after the timed steps (lora_B != 0, weights copied over).
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tinyStepSetup } from './tiny-setup.js';

const { savePi0Weights } = await import('@vla-lora/models');
const { writeSafetensors } = await import('@vla-lora/checkpoint-io');
const { torchPi0Config, torchPi0Inputs } = await import('@vla-lora/models/test-support');

const steps = Number(process.argv[2] ?? 20);
const warmup = Number(process.argv[3] ?? 2);
const threads = (process.env['TORCH_THREADS'] ?? '1,2').split(',').map(Number);
const TOL = 1e-5;
const PY = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./torch_pi0_step.py', import.meta.url));

const { tf, t, cfg, B, info, built, trainable, data, batch, noise, times, lossOf, vars } = await tinyStepSetup();

// which trainable tensors get a gradient: the trainer optimises exactly those (its preflight drops
// the rest, e.g. LoRA in the last PaliGemma layer, whose prefix output pi0 never reads)
const nameOf = new Map([...trainable].map(([n, v]) => [v.name, n]));
const probe = tf.variableGrads(lossOf, vars);
const loss0 = (await probe.value.data())[0] as number;
const optimizedNames = Object.keys(probe.grads).map((vn) => nameOf.get(vn) as string);
probe.value.dispose();
for (const g of Object.values(probe.grads)) g.dispose();
const optimized = new Map(optimizedNames.map((n) => [n, trainable.get(n)!]));
const optVars = [...optimized.values()];
const o1 = cfg.optim;
const hyper = {
  lr: o1.peakLr,
  betas: [o1.b1, o1.b2] as [number, number],
  eps: o1.eps,
  weightDecay: o1.weightDecay,
  maxNorm: o1.clipGradientNorm,
};

// everything the torch side needs, written before any step changes the weights
const tmp = await mkdtemp(join(tmpdir(), 'pi0-vs-torch-'));
const isLora = (n: string): boolean => /\.lora_[AB]\./.test(n);
await savePi0Weights(built.policy, join(tmp, 'base.safetensors'), { only: (n) => !isLora(n) });
await savePi0Weights(built.policy, join(tmp, 'lora.safetensors'), { only: isLora });
await writeSafetensors(join(tmp, 'inputs.safetensors'), await torchPi0Inputs(built.pi0, batch, noise, times));
await writeFile(
  join(tmp, 'config.json'),
  JSON.stringify({
    ...torchPi0Config(built.pi0),
    scalings: Object.fromEntries(built.inject.wrapped.map((w) => [w.name, w.scaling])),
    optimized: optimizedNames,
    optim: hyper,
  }),
);

// our timed steps: exactly the trainer's step (variableGrads, loss read back, clip, AdamW)
const adam = new t.AdamW(optimized, {
  lr: hyper.lr,
  betas: hyper.betas,
  eps: hyper.eps,
  weightDecay: hyper.weightDecay,
});
const tsLosses: number[] = [];
let ms = 0;
let cpuUs = 0;
for (let i = 0; i < warmup + steps; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { value, grads } = tf.variableGrads(() => lossOf() as import('@tensorflow/tfjs-core').Scalar, optVars);
  tsLosses.push((await value.data())[0] as number);
  value.dispose();
  const named = new Map(Object.entries(grads).map(([vn, g]) => [nameOf.get(vn) as string, g]));
  const clipped = await t.clipGradNorm(named, hyper.maxNorm);
  adam.step(clipped.grads, hyper.lr);
  for (const g of named.values()) g.dispose();
  for (const g of clipped.grads.values()) if (!g.isDisposed) g.dispose();
  if (i >= warmup) {
    ms += performance.now() - t0;
    const u = process.cpuUsage(c0);
    cpuUs += u.user + u.system;
  }
}
const tsMs = ms / steps;
const tsCpuMs = cpuUs / 1000 / steps;
const lossAfterT = lossOf();
const lossAfter = (await lossAfterT.data())[0] as number;
lossAfterT.dispose();
await savePi0Weights(built.policy, join(tmp, 'trained.safetensors'), { only: (n) => optimized.has(n) });

interface TorchOut {
  torch: string;
  loss_init: number;
  loss_trained: number;
  blas: { kind: string; build: string | null; loaded: string[]; alternative: string | null };
  runs: Array<{
    threads: number;
    blas_threads: number | null;
    ms_per_step: number;
    cpu_ms_per_step: number;
    losses: number[];
  }>;
}
let out: TorchOut;
try {
  execFileSync(PY, [SCRIPT, tmp, String(steps), String(warmup), threads.join(',')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 1_800_000,
  });
  out = JSON.parse(await readFile(join(tmp, 'out.json'), 'utf8')) as TorchOut;
} finally {
  await rm(tmp, { recursive: true, force: true });
}

const d0 = Math.abs(out.loss_init - loss0);
const d1 = Math.abs(out.loss_trained - lossAfter);
console.log(
  `pi0_libero_lora_tiny: batch ${B}, ${optimized.size} optimized tensors (${trainable.size} trainable by the freeze policy), ${warmup} warm-up + ${steps} timed steps of loss fwd+bwd + clip ${hyper.maxNorm} + AdamW(lr ${hyper.lr}, betas ${hyper.betas.join('/')}, wd ${hyper.weightDecay})`,
);
console.log(
  `loss at init (lora_B = 0)        ours ${loss0.toFixed(8)}  torch ${out.loss_init.toFixed(8)}  |diff| ${d0.toExponential(2)}`,
);
console.log(
  `loss after our ${warmup + steps} steps (LoRA on) ours ${lossAfter.toFixed(8)}  torch ${out.loss_trained.toFixed(8)}  |diff| ${d1.toExponential(2)}  (torch evaluates our trained weights)`,
);
for (const r of out.runs) {
  const dTraj = Math.max(...r.losses.map((l, i) => Math.abs(l - tsLosses[i]!)));
  console.log(
    `loss trajectory, torch ${r.threads} thread(s) vs ours, max |diff| over ${r.losses.length} steps: ${dTraj.toExponential(2)} (final: ours ${tsLosses.at(-1)!.toFixed(6)}, torch ${r.losses.at(-1)!.toFixed(6)})`,
  );
}
const agree = d0 < TOL && d1 < TOL;
console.log(
  agree
    ? `same model: both losses agree to < ${TOL}`
    : `WARNING: losses differ by more than ${TOL}; the timings below do not compare the same model`,
);

const rows: string[][] = [
  ['backend', 'threads', 'ms/step', 'CPU ms/step', 'samples/s', 'ours/this (wall)', 'ours/this (CPU)'],
];
const sps = (m: number): number => (B * 1000) / m;
// the backend's own threads, plus the GEMM's when matMul runs on a system BLAS (VLA_BLAS=off: XNNPACK)
const ourThreads =
  info.gemm?.kernel === 'blas' ? `${info.threads ?? 1} + ${info.gemm.threads ?? '?'} GEMM` : String(info.threads ?? 1);
rows.push([
  `ours: ${info.name}`,
  ourThreads,
  tsMs.toFixed(1),
  tsCpuMs.toFixed(1),
  sps(tsMs).toFixed(2),
  '1.00',
  '1.00',
]);
for (const r of out.runs)
  rows.push([
    `torch ${out.torch} + ${out.blas.kind}`,
    // torch's threads, and OpenBLAS's pool pinned to the same count (torch.set_num_threads does not reach it)
    r.blas_threads === null ? String(r.threads) : `${r.threads} (BLAS ${r.blas_threads})`,
    r.ms_per_step.toFixed(1),
    r.cpu_ms_per_step.toFixed(1),
    sps(r.ms_per_step).toFixed(2),
    (tsMs / r.ms_per_step).toFixed(2),
    (tsCpuMs / r.cpu_ms_per_step).toFixed(2),
  ]);
const w = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
console.log('');
for (const r of rows) console.log(r.map((s, c) => (c === 0 ? s.padEnd(w[c]!) : s.padStart(w[c]!))).join('  '));
const best = out.runs.reduce((a, b) => (a.ms_per_step <= b.ms_per_step ? a : b));
console.log('');
console.log(
  `ours / best torch (${best.threads} thread(s)): ${(tsMs / best.ms_per_step).toFixed(2)}x wall, ${(tsCpuMs / best.cpu_ms_per_step).toFixed(2)}x CPU time`,
);
console.log(`ours: ${info.description}`);
console.log(
  `torch BLAS: ${out.blas.kind} (torch built BLAS_INFO=${out.blas.build}; libblas.so.3 -> ${out.blas.alternative}; loaded: ${out.blas.loaded.join(', ')})`,
);
if (out.blas.kind !== 'OpenBLAS' && out.blas.kind !== 'MKL')
  console.log(
    'torch is on the reference BLAS: not a fair speed peer. `apt-get install libopenblas0-pthread` switches it to OpenBLAS.',
  );
console.log(
  `load average (1/5/15 min) at the end: ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' / ')} (the machine may be shared: CPU time = user + system of each process is the steadier figure)`,
);
data.disposeBatch(batch);
if (!agree) process.exitCode = 1;
