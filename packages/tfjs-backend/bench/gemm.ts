// Benchmark (not a test): the wasm backend's matMul on XNNPACK vs on the system BLAS (koffi + OpenBLAS),
// for the shapes training uses (plain, transposed, batched with a shared right operand, attention-like)
// and a sweep of small square products that sets DEFAULT_BLAS_MIN_MACS (the crossover).
// Usage: npx tsx bench/gemm.ts [reps=20]      (VLA_BLAS_THREADS=1 to see one core)
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '../src/index.js';

const reps = Number(process.argv[2] ?? 20);

interface Case {
  name: string;
  a: number[];
  b: number[];
  ta?: boolean;
  tb?: boolean;
}

const cases: Case[] = [
  { name: '1024² · 1024²', a: [1024, 1024], b: [1024, 1024] },
  { name: '1024×512 · 512×512', a: [1024, 512], b: [512, 512] },
  { name: 'same, transposeA', a: [512, 1024], b: [512, 512], ta: true },
  { name: 'same, transposeB', a: [1024, 512], b: [512, 512], tb: true },
  { name: '[8,128,512] · [512,512] (broadcast)', a: [8, 128, 512], b: [512, 512] },
  { name: '[64,128,64] · [64,64,128] (attention)', a: [64, 128, 64], b: [64, 64, 128] },
  { name: '[64,128,64] · [64,128,64]ᵀ (scores)', a: [64, 128, 64], b: [64, 128, 64], tb: true },
  ...[4, 8, 16, 24, 32, 48, 64, 96, 128].map((n) => ({ name: `${n}³`, a: [n, n], b: [n, n] })),
  { name: '1024×512 · 512×8 (LoRA A)', a: [1024, 512], b: [512, 8] },
  { name: '1024×8 · 8×512 (LoRA B)', a: [1024, 8], b: [8, 512] },
];

function time(c: Case, a: tf.Tensor, b: tf.Tensor): number {
  const run = (): void => {
    tf.matMul(a, b, c.ta, c.tb).dispose(); // wasm kernels run synchronously: no read-back needed
  };
  run();
  const n = Math.max(3, Math.min(reps, Math.ceil(2e9 / flops(c))));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) run();
  return (performance.now() - t0) / n;
}

function flops(c: Case): number {
  const batch = c.a.slice(0, -2).reduce((x, y) => x * y, 1);
  const m = c.ta ? c.a.at(-1)! : c.a.at(-2)!;
  const k = c.ta ? c.a.at(-2)! : c.a.at(-1)!;
  const n = c.tb ? c.b.at(-2)! : c.b.at(-1)!;
  return 2 * batch * m * n * k;
}

await initBackend({ backend: 'wasm', registerGradients: false });
const c0 = process.cpuUsage();
const rows: string[][] = [['case', 'XNNPACK ms', 'GFLOP/s', 'BLAS ms', 'GFLOP/s', 'XNNPACK/BLAS']];
let blasInfo = '';
for (const c of cases) {
  const a = tf.randomNormal(c.a);
  const b = tf.randomNormal(c.b);
  await initBackend({ backend: 'wasm', blas: 'off', registerGradients: false });
  const x = time(c, a, b);
  const info = await initBackend({ backend: 'wasm', blasMinMacs: 0, registerGradients: false });
  blasInfo = info.description;
  const o = info.gemm?.kernel === 'blas' ? time(c, a, b) : Number.NaN;
  const gf = (ms: number): string => (flops(c) / ms / 1e6).toFixed(1);
  rows.push([c.name, x.toFixed(3), gf(x), o.toFixed(3), gf(o), (x / o).toFixed(2)]);
  a.dispose();
  b.dispose();
}
const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((s, i) => (i === 0 ? s.padEnd(w[i]!) : s.padStart(w[i]!))).join('  '));
const u = process.cpuUsage(c0);
console.log(blasInfo);
console.log(
  `CPU time ${((u.user + u.system) / 1e6).toFixed(1)} s; load average ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} (shared machine: compare columns of one run)`,
);
