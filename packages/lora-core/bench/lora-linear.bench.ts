// Benchmark: LoraLinear forward+backward, our plain-2-D-matMul path vs the naive tfjs path
// (tf.matMul with transposeB + tfjs autodiff, which uses transposed/batched matMuls).
// Run: cd packages/lora-core && npx -y pnpm@10.34.8 bench   (or: npx tsx bench/lora-linear.bench.ts)
// Env: BENCH_BACKEND=wasm|cpu (default wasm), BENCH_ITERS (rounds for the wide case, default 7; small cases x20).
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { Linear, LoraLinear } from '../src/index.js';

const backend = process.env['BENCH_BACKEND'] ?? 'wasm';
const iters = Number(process.env['BENCH_ITERS'] ?? 7);

interface Case {
  label: string;
  batch: number;
  seq: number;
  din: number;
  dout: number;
  r: number;
}
const CASES: Case[] = [
  { label: 'wide', batch: 8, seq: 128, din: 512, dout: 512, r: 16 },
  { label: 'tiny-gemma q_proj', batch: 2, seq: 12, din: 64, dout: 64, r: 8 },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Median wall time per call of each function, measured INTERLEAVED (fast, naive, fast, naive ...)
 * so that load from other processes hits every variant alike. 2 warm-up rounds first.
 */
async function timeInterleaved(fns: Array<() => tf.Tensor[]>, rounds: number): Promise<number[]> {
  const runOnce = async (fn: () => tf.Tensor[]): Promise<number> => {
    const t0 = performance.now();
    const r = fn();
    await Promise.all(r.map((t) => t.data())); // wait for the results
    const dt = performance.now() - t0;
    tf.dispose(r);
    return dt;
  };
  for (let w = 0; w < 2; w++) for (const fn of fns) await runOnce(fn);
  const ts: number[][] = fns.map(() => []);
  for (let i = 0; i < rounds; i++) for (let k = 0; k < fns.length; k++) ts[k]!.push(await runOnce(fns[k]!));
  return ts.map(median);
}

async function main(): Promise<void> {
  const info = await initBackend({ backend: backend as 'wasm' | 'cpu' }); // also registers tfjs-core's gradients
  const { loadavg, cpus } = await import('node:os');
  console.log(
    `${info.description} (tfjs-core ${tf.version_core}), node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}; medians of interleaved rounds after 2 warm-ups`,
  );
  for (const c of CASES) {
    const n = c.batch * c.seq;
    const base = new Linear(c.din, c.dout, { seed: 1 });
    const lora = new LoraLinear(base, { r: c.r, alpha: c.r, init: 'openpi', seed: 2 });
    const x3 = tf.randomNormal([c.batch, c.seq, c.din], 0, 1, 'float32', 3);
    const cot = tf.randomNormal([c.batch, c.seq, c.dout], 0, 1, 'float32', 4);
    const s = lora.scaling;
    const W = lora.weight;
    const A = lora.loraA;
    const B = lora.loraB;

    // ours: LoraLinear.apply (customGrad, 2-D matMuls: transpose flags on a BLAS, copies otherwise); grads for x, A, B
    const fast = (): tf.Tensor[] =>
      tf.grads((x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        void a;
        void b; // A and B are the layer's own variables (customGrad inputs)
        return tf.sum(tf.mul(lora.apply(x), cot));
      })([x3, A, B]);
    // naive 2-D: reshape, tf.matMul(..., transposeB) forward, tfjs's own matMul gradients backward
    const naive2d = (): tf.Tensor[] =>
      tf.grads((x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const x2 = tf.reshape(x, [n, c.din]) as tf.Tensor2D;
        const y = tf.add(
          tf.matMul(x2, W as tf.Tensor2D, false, true),
          tf.mul(tf.matMul(tf.matMul(x2, a as tf.Tensor2D, false, true), b as tf.Tensor2D, false, true), s),
        );
        return tf.sum(tf.mul(tf.reshape(y, [c.batch, c.seq, c.dout]), cot));
      })([x3, A, B]);
    // naive 3-D: batched matMul against the broadcast weights, as a direct port of x @ W.T would do
    const naive3d = (): tf.Tensor[] =>
      tf.grads((x: tf.Tensor, a: tf.Tensor, b: tf.Tensor) => {
        const y = tf.add(
          tf.matMul(x as tf.Tensor3D, W as unknown as tf.Tensor3D, false, true),
          tf.mul(
            tf.matMul(
              tf.matMul(x as tf.Tensor3D, a as unknown as tf.Tensor3D, false, true),
              b as unknown as tf.Tensor3D,
              false,
              true,
            ),
            s,
          ),
        );
        return tf.sum(tf.mul(y, cot));
      })([x3, A, B]);

    // correctness first: the three agree
    const [g1, g2] = [fast(), naive2d()];
    let d = 0;
    for (let i = 0; i < 3; i++) {
      const a = g1[i]!.dataSync();
      const b = g2[i]!.dataSync();
      for (let j = 0; j < a.length; j++) d = Math.max(d, Math.abs(a[j]! - b[j]!) / Math.max(1, Math.abs(b[j]!)));
    }
    tf.dispose([...g1, ...g2]);

    const flops =
      2 * n * c.din * c.dout * 2 /* fwd base + dx base */ +
      2 * n * c.r * (c.din + c.dout) * 3; /* lora fwd, dx, dA/dB */
    let t3: number | null = null;
    let naive3dError = '';
    try {
      tf.dispose(naive3d());
    } catch (e) {
      naive3dError = (e as Error).message.split('\n')[0]!;
    }
    const rounds = n >= 512 ? iters : iters * 20; // small shapes: many more rounds (per-op overhead, noisy)
    const times = await timeInterleaved(naive3dError === '' ? [fast, naive2d, naive3d] : [fast, naive2d], rounds);
    const [tFast, t2] = [times[0]!, times[1]!];
    if (naive3dError === '') t3 = times[2]!;
    const gf = (ms: number): string => `${(flops / ms / 1e6).toFixed(2)} GFLOP/s`;
    console.log(
      `\n${c.label}: x [${c.batch}, ${c.seq}, ${c.din}] -> ${c.dout}, r ${c.r}; forward+backward (dx, dA, dB), max rel diff fast vs naive ${d.toExponential(2)}`,
    );
    console.log(`  fast (LoraLinear, matmul.ts)          ${tFast.toFixed(1).padStart(9)} ms  ${gf(tFast)}`);
    console.log(
      `  naive 2-D (transposeB + tfjs grads)   ${t2.toFixed(1).padStart(9)} ms  ${gf(t2)}   ratio naive/fast ${(t2 / tFast).toFixed(2)}x`,
    );
    if (t3 !== null)
      console.log(
        `  naive 3-D (batched matMul + grads)    ${t3.toFixed(1).padStart(9)} ms  ${gf(t3)}   ratio naive/fast ${(t3 / tFast).toFixed(2)}x`,
      );
    else console.log(`  naive 3-D (batched matMul + grads)    does not run: tfjs ${naive3dError}`);
    tf.dispose([x3, cot]);
  }
}

await main();
