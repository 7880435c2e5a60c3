// Where the time of a tiny pi0 step goes (forward pieces, backward). npx tsx bench/run.ts profile-pi0.ts
import * as tf from '@tensorflow/tfjs-core';
import { getPi0Config } from '@vla-lora/gemma-config';
import { injectLora, namedParameters } from '@vla-lora/lora-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { Pi0Policy, pi0LoraConfig, SeededRandom } from '../src/index.js';

await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'auto' });
const cfg = getPi0Config('pi0_tiny_lora');
const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(0) });
injectLora(policy, { ...pi0LoraConfig(cfg), seed: 1 });
const B = 8;
const px = cfg.siglip.imageSize;
const imgs = tf.randomUniform([B * 3, px, px, 3], -1, 1);
const time = (label: string, f: () => tf.Tensor | void, n = 3): void => {
  f();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) tf.tidy(() => { const r = f(); if (r) r.dataSync(); });
  console.log(label, ((performance.now() - t0) / n).toFixed(1), 'ms');
};
time('siglip(24 images)', () => policy.paligemmaWithExpert.visionTower.apply(imgs));
const x = tf.randomNormal([B * 3 * 16, 64]);
const w = tf.randomNormal([64, 64]);
time('matMul [384,64]x[64,64]', () => tf.matMul(x, w), 20);
const q = tf.randomNormal([24, 16, 64]);
time('attention 24x16 tokens, 4 heads', () => (q as tf.Tensor), 1);
const { groupedQueryAttention } = await import('../src/ops/attention.js');
time('gqa siglip-like', () => groupedQueryAttention(q, q, q, null, { numHeads: 4, numKvHeads: 4, headDim: 16, scale: 0.25 }), 5);
const q2 = tf.randomNormal([8, 75, 64]);
const k2 = tf.randomNormal([8, 75, 16]);
time('gqa gemma-like fwd', () => groupedQueryAttention(q2, k2, k2, null, { numHeads: 4, numKvHeads: 1, headDim: 16, scale: 0.25 }), 5);
time('gqa gemma-like fwd+bwd', () => {
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(groupedQueryAttention(a, b, b, null, { numHeads: 4, numKvHeads: 1, headDim: 16, scale: 0.25 })));
  return g([q2, k2])[0]!;
}, 5);
console.log('tensors', tf.memory().numTensors);
