// The README example. Run: npx tsx scripts/example.ts
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { getPi0Config, pi0ParamSpecs } from '@vla-lora/gemma-config';
import {
  applyFreezePolicy,
  FreezePolicy,
  freezeReport,
  pi0LoraPolicy,
  preflightGradientFlow,
  train,
} from '../src/index.js';

// 1. On specs (nothing allocated): pi0 with gemma_2b_lora + gemma_300m_lora.
const plan = pi0LoraPolicy().plan(pi0ParamSpecs(getPi0Config('pi0_lora')));
for (const line of freezeReport(plan).lines) console.log(line);

// 2. On tfjs variables, then the preflight gradient-flow check on one batch.
const backend = await initBackend({ backend: 'cpu' }); // also registers tfjs-core's gradients
console.log(`backend: ${backend.name}`);
const vars = new Map<string, tf.Variable>([
  ['proj.base_layer.weight', tf.variable(tf.randomNormal([4, 4]))],
  ['proj.lora_A.default.weight', tf.variable(tf.randomUniform([2, 4], -0.5, 0.5))],
  ['proj.lora_B.default.weight', tf.variable(tf.zeros([4, 2]))],
  ['head.weight', tf.variable(tf.randomNormal([1, 4]))],
]);
applyFreezePolicy(new FreezePolicy([train('lora_A'), train('lora_B'), train('^head')]), vars);
const x = tf.randomNormal([8, 4]);
const w = (k: string): tf.Tensor2D => vars.get(k) as tf.Variable as tf.Tensor2D;
const loss = (): tf.Scalar => {
  const h = tf.add(
    tf.matMul(x, w('proj.base_layer.weight'), false, true),
    tf.matMul(tf.matMul(x, w('proj.lora_A.default.weight'), false, true), w('proj.lora_B.default.weight'), false, true),
  );
  return tf.mean(tf.square(tf.matMul(h, w('head.weight'), false, true)));
};
for (const line of (await preflightGradientFlow({ params: vars, loss })).lines) console.log(line);
