// Profile (not a test): the pi0_libero_lora_tiny training step (loss forward + backward, at the
// config's batch size) by tfjs kernel: calls and time per kernel type, kernel calls per step, and the
// unprofiled step's CPU time (user + system, median of `steps`; read it with the load average: the
// machine may be shared). Kernel times are wall clock around each call (tf.profile): read the shares.
//   npx tsx bench/pi0-profile.ts [steps=10] [top=25]      (VLA_BACKEND=wasm|cpu|auto, default: the config's)
import { loadavg } from 'node:os';
import { tinyStepSetup } from './tiny-setup.js';

const steps = Number(process.argv[2] ?? 10);
const top = Number(process.argv[3] ?? 25);
const { tf, B, info, data, batch, lossOf, vars } = await tinyStepSetup();
const step = (): number => {
  const { value, grads } = tf.variableGrads(lossOf, vars);
  const l = value.dataSync()[0]!;
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
  return l;
};
const loss = step();
const cpu: number[] = [];
const wall: number[] = [];
for (let i = 0; i < steps; i++) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  step();
  wall.push(performance.now() - t0);
  const u = process.cpuUsage(c0);
  cpu.push((u.user + u.system) / 1000);
}
const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const prof = await tf.profile(step);
// customGrad's "unnamed scope" entries wrap the kernels they run: leave them out of the sums
const kernels = prof.kernels.filter((k) => k.name !== 'unnamed scope');
const byKernel = new Map<string, { calls: number; ms: number; shapes: Map<string, [number, number]> }>();
for (const k of kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const e = byKernel.get(k.name) ?? { calls: 0, ms: 0, shapes: new Map<string, [number, number]>() };
  e.calls++;
  e.ms += ms;
  const sig = k.inputShapes.map((s) => `[${s.join(',')}]`).join('·');
  const s = e.shapes.get(sig) ?? [0, 0];
  e.shapes.set(sig, [s[0] + 1, s[1] + ms]);
  byKernel.set(k.name, e);
}
const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
console.log(
  `pi0_libero_lora_tiny batch ${B} loss fwd+bwd, ${info.description}: loss ${loss.toFixed(8)}; ` +
    `${kernels.length} kernel calls/step (${prof.kernels.length - kernels.length} customGrad scopes), ` +
    `${total.toFixed(0)} ms inside kernels (profiled); unprofiled step median of ${steps}: ${med(cpu).toFixed(1)} CPU ms, ` +
    `${med(wall).toFixed(1)} ms wall; ${prof.newTensors} new tensors; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
console.log('kernel                 calls   ms      share  top input shapes (calls, ms)');
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
  const shapes = [...e.shapes]
    .sort((a, b) => b[1][1] - a[1][1])
    .slice(0, 3)
    .map(([s, [n, ms]]) => `${s} ×${n} ${ms.toFixed(1)}`)
    .join('; ');
  console.log(
    `${name.padEnd(22)} ${String(e.calls).padStart(5)} ${e.ms.toFixed(1).padStart(7)} ${((100 * e.ms) / total).toFixed(1).padStart(6)}%  ${shapes}`,
  );
}
data.disposeBatch(batch);
