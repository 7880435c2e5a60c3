// Loop of 2-D matMuls vs one batched matMul (no transpose flags) on tfjs for attention-like blocks
// (what BATCHED_MAX_FLOPS in src/ops/attention.ts is tuned on). npx tsx bench/run.ts mm-crossover.ts
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vla-lora/tfjs-backend';
await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'auto' });
const cases: Array<[number, number, number, number]> = [
  [96, 16, 16, 16],
  [8, 300, 16, 75],
  [32, 128, 64, 128],
  [8, 512, 64, 128],
  [16, 64, 32, 64],
  [8, 1024, 128, 128],
];
for (const [n, m, k, p] of cases) {
  const a = tf.randomNormal([n, m, k]);
  const b = tf.randomNormal([n, k, p]);
  const as = tf.unstack(a);
  const bs = tf.unstack(b);
  const run = (f: () => void, reps: number): number => {
    f();
    const t0 = performance.now();
    for (let i = 0; i < reps; i++) f();
    return (performance.now() - t0) / reps;
  };
  const loop = run(
    () =>
      tf.tidy(() => {
        const r = tf.stack(as.map((x, i) => tf.matMul(x, bs[i]!)));
        r.dataSync();
      }),
    5,
  );
  const batched = run(
    () =>
      tf.tidy(() => {
        tf.matMul(a, b).dataSync();
      }),
    5,
  );
  const gf = (2 * n * m * k * p) / 1e9;
  console.log(
    `[${n}] ${m}x${k}x${p}: loop ${loop.toFixed(2)} ms (${((gf / loop) * 1e3).toFixed(1)} GF/s), batched ${batched.toFixed(2)} ms (${((gf / batched) * 1e3).toFixed(1)} GF/s)`,
  );
}
