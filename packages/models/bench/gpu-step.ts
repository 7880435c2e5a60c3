// The one-command GPU check's TypeScript side (root `pnpm bench:gpu`, scripts/gpu/): pi0 LoRA
// training steps (loss forward + backward, no optimizer) on the selected backend (default webgpu):
//   1. the tiny pi0 (pi0_tiny_lora), batch 8;
//   2. the full-size pi0 (pi0_lora, 3.5 B parameters), batch 8, gradient checkpointing on, weights
//      random on the device (the 257,152 × 2048 embedding is gathered by rows on the host, the
//      expert's unused lm_head is never allocated: a 2 GiB float32 buffer is past WebGPU limits).
// Skipped with a line saying so on a software adapter (lavapipe/llvmpipe, SwiftShader), where
// step 2 would take hours: there step 1 is the dry run.
// Writes DIR/<config>.spec.json (what the PyTorch side, scripts/torch_pi0_lora_step.py, builds
// the same step from) and DIR/ts.json (figures).
//
// Usage: npx tsx bench/run.ts gpu-step.ts DIR [--batch 8] [--steps 3] [--full auto|on|off]
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { getPi0Config, pi0Variants, PI0_PATHS, type Pi0Config } from '@vla-lora/gemma-config';
import { injectLora, LoraLinear, namedModules, namedParameters } from '@vla-lora/lora-core';
import { initBackend } from '@vla-lora/tfjs-backend';
import { leanVariableGrads, Pi0Policy, pi0LoraConfig, SeededRandom, type Pi0Batch } from '../src/index.js';
import { randomTokens } from './random-inputs.js';
import { commandLine } from './args.js';
import { torchPi0Config } from '../test-support/index.js';

const args = process.argv.slice(2);
const { flag, positional } = commandLine(args);
const dir = positional ?? 'bench-gpu-out';
mkdirSync(dir, { recursive: true });
const B = Number(flag('batch', '8'));
const steps = Number(flag('steps', '3'));
const info = await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'webgpu' });
const software = /llvmpipe|lavapipe|swiftshader|software/i.test(info.adapter ?? '') || info.name !== 'webgpu';
const fullFlag = flag('full', 'auto');
const runFull = fullFlag === 'on' || (fullFlag === 'auto' && !software);
const log = (o: Record<string, unknown>): void => console.log(JSON.stringify(o));
log({ backend: info.description, adapter: info.adapter ?? null, batch: B, steps, full: runFull });

/** Deterministic pseudo-random N(0, 0.02)-ish rows for the synthetic embedding (no 2 GiB table anywhere). */
function syntheticRows(num: number, dim: number) {
  return {
    shape: [num, dim] as [number, number],
    gatherRows: (ids: Int32Array): Float32Array => {
      const out = new Float32Array(ids.length * dim);
      for (let i = 0; i < ids.length; i++) {
        let s = (ids[i]! * 2654435761) >>> 0 || 1;
        for (let j = 0; j < dim; j++) {
          s ^= s << 13;
          s >>>= 0;
          s ^= s >>> 17;
          s ^= s << 5;
          s >>>= 0;
          out[i * dim + j] = ((s / 4294967296) * 2 - 1) * 0.035; // uniform with std 0.02
        }
      }
      return out;
    },
  };
}

function build(cfg: Pi0Config, full: boolean): Pi0Policy {
  if (!full) return Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(0) });
  const embed = `${PI0_PATHS.languageModel}.embed_tokens.weight`;
  const head = `${PI0_PATHS.expertLmHead}.weight`;
  const policy = Pi0Policy.create(cfg, {
    init: 'zeros',
    stream: {
      tensor: (p) =>
        p === head
          ? { shape: [cfg.vocabSize, pi0Variants(cfg).expert.width], materialize: () => tf.zeros([0]) }
          : undefined,
      rows: (p) => (p === embed ? syntheticRows(cfg.vocabSize, pi0Variants(cfg).paligemma.width) : undefined),
    },
  });
  let seed = 1;
  for (const [n, v] of namedParameters(policy)) {
    const t = /vision_tower\..*(layer_norm\d|post_layernorm)\.weight$/.test(n)
      ? tf.onesLike(v)
      : /(layernorm|\.norm)\.weight$|\.bias$/.test(n)
        ? tf.zerosLike(v)
        : tf.randomNormal(v.shape, 0, 0.02, 'float32', seed++);
    v.assign(t);
    t.dispose();
  }
  return policy;
}

function randomBatch(cfg: Pi0Config, batch: number): Pi0Batch {
  const rng = new SeededRandom(7);
  const px = cfg.siglip.imageSize;
  return {
    images: cfg.imageKeys.map((_, c) => tf.randomUniform([batch, px, px, 3], -1, 1, 'float32', 100 + c)),
    imageMasks: cfg.imageKeys.map(() => Array.from({ length: batch }, () => true)),
    ...randomTokens(cfg, batch, rng),
    state: tf.randomUniform([batch, cfg.actionDim], -1, 1, 'float32', 200),
    actions: tf.randomUniform([batch, cfg.actionHorizon, cfg.actionDim], -1, 1, 'float32', 201),
  };
}

/** What torch_pi0_lora_step.py needs to build the same step. */
function torchSpec(cfg: Pi0Config, policy: Pi0Policy, full: boolean): Record<string, unknown> {
  const { paligemma } = pi0Variants(cfg);
  const lora: Record<string, { r: number; scaling: number }> = {};
  for (const [n, m] of namedModules(policy)) if (m instanceof LoraLinear) lora[n] = { r: m.r, scaling: m.scaling };
  const params: Record<string, number[]> = {};
  for (const [n, v] of namedParameters(policy))
    if (!n.includes('.lora_')) params[n.replace('.base_layer.', '.')] = v.shape;
  params[`${PI0_PATHS.languageModel}.embed_tokens.weight`] = [cfg.vocabSize, paligemma.width];
  return {
    config: cfg.name,
    full,
    batch: B,
    cameras: cfg.imageKeys.length,
    image_size: cfg.siglip.imageSize,
    tokens: cfg.maxTokenLen,
    vocab: cfg.vocabSize,
    action_dim: cfg.actionDim,
    torch_pi0: torchPi0Config(cfg),
    params,
    lora,
  };
}

const results: Array<Record<string, unknown>> = [];
for (const [name, full] of [
  ['pi0_tiny_lora', false],
  ['pi0_lora', true],
] as const) {
  if (full && !runFull) {
    log({
      config: name,
      skipped: `software adapter (${info.adapter ?? info.name}): the full-size step runs on a GPU only`,
    });
    results.push({ config: name, skipped: true });
    continue;
  }
  const cfg = getPi0Config(name);
  const t0 = performance.now();
  const policy = build(cfg, full);
  injectLora(policy, { ...pi0LoraConfig(cfg), seed: 1, initLoraWeights: 'gaussian' });
  for (const [n, v] of namedParameters(policy)) if (/^(action_|state_proj)/.test(n)) v.trainable = true;
  if (full) policy.setGradientCheckpointing(true);
  const buildSeconds = (performance.now() - t0) / 1000;
  writeFileSync(join(dir, `${name}.spec.json`), JSON.stringify(torchSpec(cfg, policy, full)));
  const batch = randomBatch(cfg, B);
  const vars = namedParameters(policy)
    .filter(([, v]) => v.trainable)
    .map(([, v]) => v);
  const ms: number[] = [];
  const losses: number[] = [];
  for (let s = 0; s < steps + 1; s++) {
    const s0 = performance.now();
    const { value, grads } = leanVariableGrads(
      () => tf.mean(policy.computeLoss(batch, new SeededRandom(11))) as tf.Scalar,
      vars,
    );
    const loss = (await value.data())[0]!;
    await Promise.all(Object.values(grads).map((g) => g.data()));
    value.dispose();
    for (const g of Object.values(grads)) g.dispose();
    if (s > 0) ms.push(performance.now() - s0); // step 0 is warm-up (shader compilation)
    losses.push(loss);
  }
  const r = {
    config: name,
    batch: B,
    buildSeconds: Number(buildSeconds.toFixed(1)),
    msPerStep: Number((ms.reduce((a, b) => a + b, 0) / ms.length).toFixed(1)),
    losses,
    finite: losses.every(Number.isFinite),
    trainableTensors: vars.length,
    backendBytes: tf.memory().numBytes,
  };
  log(r);
  results.push(r);
  for (const v of namedParameters(policy)) v[1].dispose();
  for (const t of [...batch.images, batch.tokens, batch.state, batch.actions]) t.dispose();
}
writeFileSync(
  join(dir, 'ts.json'),
  JSON.stringify({ backend: info.description, adapter: info.adapter ?? null, results }),
);
