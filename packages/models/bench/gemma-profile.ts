// Profile (not a test): where one forward + backward of Gemma + LoRA (the wide gemma-step case:
// hidden 512, 4 layers, batch 8 × 128, r=8 on all seven projections) spends its time, by tfjs kernel.
// tf.profile times each kernel call (wall clock around it: on a shared machine read the shares, not
// the absolute figures), so the table says which kernels the step is made of and which dominate.
// Usage: npx tsx bench/run.ts gemma-profile.ts [layers=4] [top=20]     (VLA_BACKEND=wasm|cpu|...)
import { loadavg } from 'node:os';
import * as tf from '@tensorflow/tfjs-core';
import { namedParameters } from '@vla-lora/lora-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { gemmaWithLora, randomIds, wideGemma } from './gemma-lora.js';

const layers = Number(process.argv[2] ?? 4);
const top = Number(process.argv[3] ?? 20);
const info = await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'auto' });
const cfg = wideGemma(layers);
const [batch, seq] = [8, 128];
const model = gemmaWithLora(cfg);
const trainable = namedParameters(model)
  .filter(([, v]) => v.trainable)
  .map(([, v]) => v);
const ids = randomIds(batch, seq, cfg.vocab_size);
const step = (): void => {
  const { value, grads } = tf.variableGrads(() => model.loss(ids, ids), trainable);
  value.dataSync();
  value.dispose();
  for (const g of Object.values(grads)) g.dispose();
};
step(); // warm-up
const c0 = process.cpuUsage();
const t0 = performance.now();
const prof = await tf.profile(step);
const wall = performance.now() - t0;
const u = process.cpuUsage(c0);
const byKernel = new Map<string, { calls: number; ms: number; shapes: Map<string, number> }>();
for (const k of prof.kernels) {
  const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
  const e = byKernel.get(k.name) ?? { calls: 0, ms: 0, shapes: new Map<string, number>() };
  e.calls++;
  e.ms += ms;
  const sig = k.inputShapes.map((s) => `[${s.join(',')}]`).join('·');
  e.shapes.set(sig, (e.shapes.get(sig) ?? 0) + ms);
  byKernel.set(k.name, e);
}
const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0);
console.log(
  `backend ${info.description}; hidden 512, ${layers} layers, batch ${batch} × ${seq}: ${prof.kernels.length} kernel calls, ` +
    `${total.toFixed(0)} ms inside kernels, step ${wall.toFixed(0)} ms wall / ${((u.user + u.system) / 1000).toFixed(0)} ms CPU (profiled), ` +
    `peak ${(prof.peakBytes / 2 ** 20).toFixed(0)} MiB, ${prof.newTensors} new tensors; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
console.log('kernel                 calls   ms      share  top input shapes (ms)');
for (const [name, e] of [...byKernel].sort((a, b) => b[1].ms - a[1].ms).slice(0, top)) {
  const shapes = [...e.shapes]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 2)
    .map(([s, ms]) => `${s} ${ms.toFixed(0)}`)
    .join('; ');
  console.log(
    `${name.padEnd(22)} ${String(e.calls).padStart(5)} ${e.ms.toFixed(0).padStart(6)} ${((100 * e.ms) / total).toFixed(1).padStart(6)}%  ${shapes}`,
  );
}
