// The README's runnable example: the transformers fixture model with its PEFT adapter, then a tiny
// pi0 policy's loss and sampled actions. Run: npx tsx bench/run.ts ../examples/quickstart.ts
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { getPi0Config } from '@vla-lora/gemma-config';
import { injectLora, namedParameters } from '@vla-lora/lora-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { loadGemmaForCausalLM, Pi0Policy, pi0LoraConfig, SeededRandom } from '../src/index.js';

const info = await initBackend(); // VLA_BACKEND or auto
console.log(info.description);

// 1. A transformers Gemma checkpoint (config.json + model.safetensors), PyTorch names and layouts.
const dir = fileURLToPath(new URL('../../../fixtures/peft-tiny-gemma/base', import.meta.url));
const { model, report } = await loadGemmaForCausalLM(dir);
console.log(`loaded ${report.loaded} tensors (${report.values} values) from ${dir}`);
const ids = [[2, 17, 99, 4, 250, 31]];
const lossBefore = model.loss(ids, ids).dataSync()[0]!;
const wrap = injectLora(model, {
  r: 8,
  loraAlpha: 16,
  targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
});
console.log(`LoRA on ${wrap.count} layers: trainable ${wrap.trainableParameters} of ${wrap.totalParameters}`);
const trainable = namedParameters(model).filter(([, v]) => v.trainable);
const { value, grads } = tf.variableGrads(
  () => model.loss(ids, ids),
  trainable.map(([, v]) => v),
);
console.log(
  `loss ${lossBefore.toFixed(4)} (base) = ${value.dataSync()[0]!.toFixed(4)} (LoRA B = 0); ${Object.keys(grads).length} gradients`,
);

// 2. A tiny pi0 (openpi PyTorch layout) with LoRA: flow-matching loss and 10-step Euler sampling.
const cfg = getPi0Config('pi0_tiny_lora');
const policy = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(0) });
injectLora(policy, pi0LoraConfig(cfg));
const B = 2;
const px = cfg.siglip.imageSize;
const obs = {
  images: cfg.imageKeys.map(() => tf.randomUniform([B, px, px, 3], -1, 1, 'float32', 1)),
  imageMasks: cfg.imageKeys.map(() => [true, true]),
  tokens: tf.tensor2d(new Int32Array(B * cfg.maxTokenLen).fill(5), [B, cfg.maxTokenLen], 'int32'),
  tokenMasks: [Array(cfg.maxTokenLen).fill(true), Array(cfg.maxTokenLen).fill(true)],
  state: tf.zeros([B, cfg.actionDim]),
};
const actions = tf.randomUniform([B, cfg.actionHorizon, cfg.actionDim], -1, 1, 'float32', 2);
const rng = new SeededRandom(42);
const perElement = policy.computeLoss({ ...obs, actions }, rng); // [B, horizon, actionDim]
console.log(`pi0 flow-matching loss ${tf.mean(perElement).dataSync()[0]!.toFixed(4)}`);
const sampled = policy.sampleActions(obs, rng); // 10 Euler steps, prefix KV cache computed once
console.log(`sampled actions [${sampled.shape}]`);
