// Builds, in a directory, what a finished tiny training run leaves behind, with the libraries that
// training uses (not by hand): base weights in openpi's PyTorch layout (model.safetensors), the
// trainer's export (<run>/adapter in PEFT format + <run>/trainable.safetensors with the heads) and
// openpi-format norm stats. LoRA and heads are set to seeded non-zero values, so an adapter that
// failed to load would change the actions. Used by the tests of pi0 and vla-serve and by vla-serve's benchmark (test-support: never in dist).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from '@vla-lora/checkpoint-io';
import { writeNormStats, type LiberoNormStats } from '@vla-lora/lerobot-data';
import { namedParameters } from '@vla-lora/lora-core';
import { Pi0Policy, SeededRandom } from '@vla-lora/models';
import { float32NdArray, uint8NdArray } from '@vla-lora/policy-server';
import {
  buildPi0,
  exportTrainedWeights,
  freezePolicyFor,
  freezeWithPolicy,
  getTrainConfig,
  type LoadTrainedPi0Options,
} from '../src/index.js';
import { setupBackend, tempDir, type TempDir } from './adapter-surgery.js';
import { Philox, type TrainLogger } from '@vla-lora/trainer';
import * as tf from '@tensorflow/tfjs-core';

export const TINY_CONFIG = 'pi0_libero_lora_tiny';
export const LIBERO_STATE_DIM = 8;
export const LIBERO_ACTION_DIM = 7;

export interface TinyRun {
  config: string;
  baseDir: string;
  runDir: string;
  adapterDir: string;
  trainablePath: string;
  normStatsPath: string;
  normStats: LiberoNormStats;
}

const silent: TrainLogger = { info() {}, warn() {}, step() {}, close() {} };

/** Writes the tiny run under `root` (base/, run/). Needs an initialised tfjs backend. */
export async function makeTinyRun(root: string, seed = 7): Promise<TinyRun> {
  const cfg = getTrainConfig(TINY_CONFIG);
  const baseDir = join(root, 'base');
  const runDir = join(root, 'run');
  await mkdir(baseDir, { recursive: true });
  await mkdir(runDir, { recursive: true });

  // base weights: a seeded pi0 without LoRA, every parameter under its openpi PyTorch name
  const seeded = await buildPi0(cfg);
  const pi0 = seeded.pi0;
  for (const [, v] of namedParameters(seeded.policy)) v.dispose();
  const base = Pi0Policy.create(pi0, { init: 'random', rng: new SeededRandom(seed) });
  const entries: Array<{ name: string; dtype: 'F32'; shape: number[]; data: Uint8Array }> = [];
  for (const [name, v] of namedParameters(base)) {
    const d = Float32Array.from((await v.data()) as Float32Array);
    entries.push({ name, dtype: 'F32', shape: [...v.shape], data: new Uint8Array(d.buffer) });
  }
  await writeSafetensors(join(baseDir, 'model.safetensors'), entries, { metadata: { format: 'pt' } });
  for (const [, v] of namedParameters(base)) v.dispose();

  // the trained weights: LoRA + heads, as the trainer exports them
  const built = await buildPi0(cfg, { baseWeights: baseDir });
  const all = new Map(namedParameters(built.policy));
  const { trainable } = freezeWithPolicy(all, freezePolicyFor(cfg), silent);
  const rng = new Philox(seed, 99);
  for (const [name, v] of trainable) {
    const noise = rng.fillNormal(new Float32Array(v.size));
    const scale = /lora_B/.test(name) ? 0.05 : /lora_A/.test(name) ? 0.2 : 0.1;
    const cur = (await v.data()) as Float32Array;
    const next = Float32Array.from(cur, (x, i) => (/lora_/.test(name) ? 0 : x) + scale * noise[i]!);
    tf.tidy(() => v.assign(tf.tensor(next, v.shape, 'float32')));
  }
  const exported = await exportTrainedWeights(runDir, trainable, built.adapterConfig);
  for (const [, v] of all) v.dispose();
  if (!exported.trainablePath) throw new Error('the tiny config should train the heads');

  // norm stats in LIBERO's dims (8 state, 7 actions)
  const srng = new Philox(seed, 7);
  const vec = (n: number, lo: number, span: number): number[] =>
    Array.from({ length: n }, () => lo + span * srng.uniform());
  const normStats: LiberoNormStats = {
    state: { mean: vec(LIBERO_STATE_DIM, -0.5, 1), std: vec(LIBERO_STATE_DIM, 0.2, 0.5) },
    actions: { mean: vec(LIBERO_ACTION_DIM, -0.3, 0.6), std: vec(LIBERO_ACTION_DIM, 0.1, 0.4) },
  };
  const normStatsPath = await writeNormStats(join(runDir, 'norm_stats.json'), normStats);
  return {
    config: TINY_CONFIG,
    baseDir,
    runDir,
    adapterDir: exported.adapterDir,
    trainablePath: exported.trainablePath,
    normStatsPath,
    normStats,
  };
}

/** A LIBERO request as openpi's example client builds it (values seeded), decoded form. */
export function tinyObservation(
  seed: number,
  imageSize = 32,
): { image: Uint8Array; wristImage: Uint8Array; state: Float32Array; prompt: string } {
  const r = new Philox(seed, 1234);
  const img = (): Uint8Array =>
    Uint8Array.from({ length: imageSize * imageSize * 3 }, () => Math.floor(r.uniform() * 256));
  return {
    image: img(),
    wristImage: img(),
    state: Float32Array.from({ length: LIBERO_STATE_DIM }, () => r.uniform() * 2 - 1),
    prompt: ['pick up the black bowl', 'open the top drawer', 'put the cream cheese in the bowl'][seed % 3]!,
  };
}

/** tinyObservation(seed) as the wire request openpi's LIBERO client sends (32×32 images, 8-dim state, prompt). */
export function tinyRequest(seed: number) {
  const o = tinyObservation(seed);
  return {
    'observation/image': uint8NdArray(o.image, [32, 32, 3]),
    'observation/wrist_image': uint8NdArray(o.wristImage, [32, 32, 3]),
    'observation/state': float32NdArray(o.state, [LIBERO_STATE_DIM]),
    prompt: o.prompt,
  };
}

/** For a suite's beforeAll: the backend initialised and a tiny run written in a fresh temp dir (`tmp.remove()` in afterAll). */
export async function tinyRunInTempDir(prefix: string): Promise<{ tmp: TempDir; run: TinyRun }> {
  await setupBackend();
  const tmp = await tempDir(prefix);
  try {
    return { tmp, run: await makeTinyRun(tmp.path) };
  } catch (e) {
    await tmp.remove();
    throw e;
  }
}

/** loadTrainedPi0's options for the tiny run: its config, base weights and adapter, then `over`. */
export function tinyLoadOptions(run: TinyRun, over: Partial<LoadTrainedPi0Options> = {}): LoadTrainedPi0Options {
  return { config: getTrainConfig(run.config), baseWeights: run.baseDir, adapter: run.adapterDir, ...over };
}
