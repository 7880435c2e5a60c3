// Benchmark (not a test): ns/element of the fused VlaGeluTanhGate kernels on wasm, [8,128,2048] floats.
//   npx tsx bench/gelu-gate.ts [reps]      (GATE_STD=1: the spread of the gate values)
import * as tf from '@tensorflow/tfjs-core';
import { GELU_TANH_GATE, GELU_TANH_GATE_GRAD } from '../src/fast-gelu-gate.js';
import { initBackend } from '../src/index.js';

await initBackend({ backend: 'wasm' });
const reps = Number(process.argv[2] ?? 10);
const shape = [8, 128, 2048];
const n = shape.reduce((a, b) => a * b, 1);
const g = tf.randomNormal(shape, 0, Number(process.env['GATE_STD'] ?? 1));
const u = tf.randomNormal(shape);
const dy = tf.randomNormal(shape);
let fwd = Number.POSITIVE_INFINITY;
let bwd = Number.POSITIVE_INFINITY;
for (let r = 0; r < reps; r++) {
  const t0 = process.cpuUsage();
  const [y, t] = tf.engine().runKernel(GELU_TANH_GATE, { gate: g, up: u }, {}) as tf.Tensor[];
  const t1 = process.cpuUsage(t0);
  const [dg, du] = tf.engine().runKernel(GELU_TANH_GATE_GRAD, { dy, gate: g, up: u, t: t! }, {}) as tf.Tensor[];
  const t2 = process.cpuUsage(t0);
  fwd = Math.min(fwd, (t1.user + t1.system) / 1000);
  bwd = Math.min(bwd, (t2.user + t2.system - t1.user - t1.system) / 1000);
  tf.dispose([y!, t!, dg!, du!]);
}
console.log(
  JSON.stringify({
    elements: n,
    fwd_cpu_ms: +fwd.toFixed(2),
    bwd_cpu_ms: +bwd.toFixed(2),
    fwd_ns_per_element: +((fwd * 1e6) / n).toFixed(2),
    bwd_ns_per_element: +((bwd * 1e6) / n).toFixed(2),
  }),
);
