// Timing of one pi0 training step (forward + backward) of a pi0 config on the selected backend.
// Usage: npx tsx bench/run.ts pi0-step.ts [config=pi0_tiny_lora] [batch=8] [steps=5]
import * as tf from '@tensorflow/tfjs-core';
import { getPi0Config } from '@vla-lora/gemma-config';
import { injectLora, namedParameters } from '@vla-lora/lora-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { Pi0Policy, pi0LoraConfig, SeededRandom, type Pi0Batch } from '../src/index.js';
import { randomObservation, uniform } from './random-inputs.js';

const [name = 'pi0_tiny_lora', batchArg = '8', stepsArg = '5'] = process.argv.slice(2);
const info = await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'auto' });
console.log(info.description);
const cfg = getPi0Config(name);
const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(0) });
injectLora(policy, { ...pi0LoraConfig(cfg), seed: 1 });
for (const [n, v] of namedParameters(policy)) if (/^(action_|state_proj)/.test(n)) v.trainable = true;
const B = Number(batchArg);
const rng = new SeededRandom(2);
const batch: Pi0Batch = {
  ...randomObservation(cfg, B, rng),
  actions: tf.tensor3d(uniform(rng, B * cfg.actionHorizon * cfg.actionDim), [B, cfg.actionHorizon, cfg.actionDim]),
};
const vars = namedParameters(policy)
  .filter(([, v]) => v.trainable)
  .map(([, v]) => v);
const times: number[] = [];
const cpu: number[] = [];
for (let s = 0; s < Number(stepsArg); s++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { value, grads } = tf.variableGrads(() => tf.mean(policy.computeLoss(batch, rng)) as tf.Scalar, vars);
  value.dataSync();
  Object.values(grads).forEach((g) => g.dispose());
  value.dispose();
  times.push(performance.now() - t0);
  const c = process.cpuUsage(c0);
  cpu.push((c.user + c.system) / 1000);
}
const sorted = [...times].sort((a, b) => a - b);
console.log(
  JSON.stringify({
    config: name,
    batch: B,
    backend: info.name,
    msPerStep: times.map((t) => Math.round(t)),
    medianMs: Math.round(sorted[Math.floor(sorted.length / 2)]!),
    cpuMsPerStep: cpu.map((t) => Math.round(t)),
    loadavg: (await import('node:os')).loadavg().map((x) => Number(x.toFixed(1))),
    tensors: tf.memory().numTensors,
  }),
);
