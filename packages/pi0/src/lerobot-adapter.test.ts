// LeRobot's own pi0 PEFT adapters load (loadTrainedPi0: vla-serve and eval) and serve (ServedPi0). LeRobot (huggingface/lerobot,
// src/lerobot/policies/pi0/modeling_pi0.py, `PI0Policy._get_default_peft_targets`) returns
//   target_modules = rf"(.*\.gemma_expert\..*\.self_attn\.(q|v)_proj|model\.({common_projections}))"
//   common_projections = "state_proj|action_in_proj|action_out_proj|action_time_mlp_in|action_time_mlp_out"
//   modules_to_save = []
// and `PreTrainedPolicy._build_peft_config` (src/lerobot/policies/pretrained.py) passes only that
// (plus CLI overrides) to peft.LoraConfig, so r / lora_alpha / lora_dropout are PEFT's defaults
// (8 / 8 / 0.0). `wrap_with_peft` calls get_peft_model on the PI0Policy, which holds PI0Pytorch as
// `.model`: the saved keys read base_model.model.model.<PI0Pytorch name>.lora_A.weight.
// The adapter here is generated the same way at the tiny widths: our pi0 under a parent module
// named `model` (LeRobot's PI0Policy), LoRA-wrapped with LeRobot's exact regex, saved by
// lora-core/checkpoint-io as PEFT's save_pretrained writes it.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  injectLora,
  loraLayers,
  makeLoraConfig,
  mergeLora,
  ModuleBase,
  namedParameters,
  saveAdapter,
  setTraining,
  unloadLora,
  type LoraConfig,
} from '@vla-lora/lora-core';
import type { Pi0Policy } from '@vla-lora/models';
import { verifyAdapterAgainstBase } from '@vla-lora/checkpoint-io';
import { Philox } from '@vla-lora/trainer';
import {
  editedAdapter,
  maxAbsDiff,
  type TempDir,
  type TinyRun,
  tinyLoadOptions,
  tinyRequest,
  tinyRunInTempDir,
} from '../test-support/index.js';
import { buildPi0 } from './build.js';
import { getTrainConfig } from './config/index.js';
import { AdapterRefusedError } from './errors.js';
import { loadTrainedPi0, type LoadTrainedPi0Options } from './load-trained.js';
import { ServedPi0 } from './served-policy.js';

// LeRobot's strings, verbatim
const COMMON_PROJECTIONS = 'state_proj|action_in_proj|action_out_proj|action_time_mlp_in|action_time_mlp_out';
const LEROBOT_TARGETS = `(.*\\.gemma_expert\\..*\\.self_attn\\.(q|v)_proj|model\\.(${COMMON_PROJECTIONS}))`;
const HEADS = COMMON_PROJECTIONS.split('|');

/** LeRobot's PI0Policy: PI0Pytorch held as `.model`. */
class LeRobotPi0Policy extends ModuleBase {
  constructor(readonly model: Pi0Policy) {
    super();
    this.registerChild('model', model);
  }
}

let tmp: TempDir;
let run: TinyRun;

beforeAll(async () => ({ tmp, run } = await tinyRunInTempDir('pi0-lerobot-')), 120_000);
afterAll(async () => tmp?.remove());

const opts = (adapter: string): LoadTrainedPi0Options =>
  tinyLoadOptions(run, { adapter, normStats: run.normStatsPath });
const request = (seed: number) => ({ ...tinyRequest(seed), noise_seed: 5 });

/** The base policy under LeRobot's wrapper, LoRA-wrapped with `config`, every LoRA and saved module seeded non-zero. */
async function lerobotPolicy(config: LoraConfig, seed: number): Promise<LeRobotPi0Policy> {
  // the tiny base, read from its file by the build step, with the config's own LoRA taken off again
  const built = await buildPi0(getTrainConfig(run.config), { baseWeights: run.baseDir });
  await unloadLora(built.policy, { merge: false });
  expect(loraLayers(built.policy)).toHaveLength(0);
  const root = new LeRobotPi0Policy(built.policy);
  injectLora(root, config, { adapterName: 'default' });
  const rng = new Philox(seed, 3);
  const saved = (config.modulesToSave ?? []).map((m) => `${m}.`);
  for (const [name, v] of namedParameters(root)) {
    const isLora = /\.lora_[AB]\./.test(name);
    if (!isLora && !saved.some((s) => name.startsWith(s))) continue;
    const noise = rng.fillNormal(new Float32Array(v.size));
    const cur = v.dataSync() as Float32Array;
    const scale = isLora ? 0.1 : 0.05;
    tf.tidy(() =>
      v.assign(
        tf.tensor(
          Float32Array.from(cur, (x, i) => x + scale * noise[i]!),
          v.shape,
          'float32',
        ),
      ),
    );
  }
  setTraining(root, false);
  return root;
}

/** Actions of the adapter served by loadPolicy vs the same weights merged into the base by hand. */
async function servedVsMerged(adapterDir: string, root: LeRobotPi0Policy): Promise<{ diff: number; lines: string[] }> {
  const lines: string[] = [];
  const loaded = await loadTrainedPi0({ ...opts(adapterDir), log: (l) => lines.push(l) });
  try {
    await mergeLora(root); // W + scale·B·A, lora-core's merge
    const cfg = getTrainConfig(run.config);
    const ours = new ServedPi0({ policy: loaded.policy, trainConfig: loaded.trainConfig, normStats: loaded.normStats });
    const ref = new ServedPi0({ policy: root.model, trainConfig: cfg, normStats: run.normStats });
    const ya = (await ours.infer(request(2)))['actions'] as { data: Uint8Array };
    const yb = (await ref.infer(request(2)))['actions'] as { data: Uint8Array };
    const f = (u: Uint8Array) => new Float32Array(u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength));
    const a = f(ya.data);
    expect(a.length).toBeGreaterThan(0);
    // the adapter is really in the forward pass: with its LoRA switched off the actions move
    for (const [, l] of loraLayers(loaded.policy)) l.adapterEnabled = false;
    const yOff = (await ours.infer(request(2)))['actions'] as { data: Uint8Array };
    expect(maxAbsDiff(a, f(yOff.data))).toBeGreaterThan(1e-3);
    return { diff: maxAbsDiff(a, f(yb.data)), lines };
  } finally {
    loaded.dispose();
  }
}

describe("LeRobot's pi0 PEFT adapters", () => {
  it('default targets (expert q/v_proj + the five heads as LoRA): served actions equal the merged weights', async () => {
    const config = makeLoraConfig({ targetModules: LEROBOT_TARGETS, modulesToSave: [] });
    const root = await lerobotPolicy(config, 11);
    const wrapped = loraLayers(root).map(([n]) => n);
    for (const h of HEADS) expect(wrapped).toContain(`model.${h}`);
    expect(wrapped.every((n) => HEADS.some((h) => n === `model.${h}`) || /gemma_expert.*\.(q|v)_proj$/.test(n))).toBe(
      true,
    );
    const dir = join(tmp.path, 'lerobot-default');
    const keys = await saveAdapter(dir, root, config, { baseModelNameOrPath: 'lerobot/pi0_base' });
    expect(keys).toContain('base_model.model.model.state_proj.lora_A.default.weight');
    expect(keys).toContain(
      'base_model.model.model.paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj.lora_B.default.weight',
    );
    // vla-ckpt verify --base: the headers fit the openpi-layout base once LeRobot's "model." is removed
    const fit = await verifyAdapterAgainstBase(dir, join(run.baseDir, 'model.safetensors'));
    expect(fit.fit.targets).toEqual(expect.arrayContaining(HEADS.map((h) => `${h}.weight`)));
    expect(fit.fit.targets).toHaveLength(wrapped.length);
    const { diff, lines } = await servedVsMerged(dir, root);
    if (process.env.SHOW_ERRORS) console.log(`max |served - merged| = ${diff}`);
    expect(diff).toBeLessThanOrEqual(1e-5);
    expect(lines.some((l) => /^adapter_config\.json targets \d+ modules \(.*state_proj/.test(l))).toBe(true);
  });

  it('modules_to_save copies load as full replacement weights', async () => {
    const config = makeLoraConfig({
      targetModules: '(.*\\.gemma_expert\\..*\\.self_attn\\.(q|v)_proj)',
      modulesToSave: ['model.state_proj', 'model.action_out_proj'],
    });
    const root = await lerobotPolicy(config, 12);
    const dir = join(tmp.path, 'lerobot-mts');
    const keys = await saveAdapter(dir, root, config, { baseModelNameOrPath: 'lerobot/pi0_base' });
    expect(keys).toContain('base_model.model.model.state_proj.weight');
    const { diff, lines } = await servedVsMerged(dir, root);
    if (process.env.SHOW_ERRORS) console.log(`max |served - merged| = ${diff}`);
    expect(diff).toBeLessThanOrEqual(1e-5);
    expect(lines.some((l) => /modules_to_save: action_out_proj, state_proj/.test(l))).toBe(true);
  });

  describe('refuses with a typed error naming the key', () => {
    let good: string;
    beforeAll(async () => {
      const config = makeLoraConfig({ targetModules: LEROBOT_TARGETS, modulesToSave: [] });
      const root = await lerobotPolicy(config, 13);
      good = join(tmp.path, 'lerobot-good');
      await saveAdapter(good, root, config, { baseModelNameOrPath: 'lerobot/pi0_base' });
      for (const [, v] of namedParameters(root)) v.dispose();
    }, 60_000);

    it('a rank that disagrees with adapter_config.json', async () => {
      const dir = await editedAdapter(good, join(tmp.path, 'lerobot-rank'), (a) => {
        (a.config as unknown as Record<string, unknown>).r = 4;
      });
      const err = await loadTrainedPi0(opts(dir)).catch((e: unknown) => e);
      if (process.env.SHOW_ERRORS) console.log((err as Error).message);
      expect(err).toBeInstanceOf(AdapterRefusedError);
      expect((err as Error).message).toMatch(
        /base_model\.model\.model\.(action_in_proj|state_proj|\S+_proj): lora_A rank 8, lora_B rank 8, config says 4/,
      );
    });

    it("a head's lora_B missing", async () => {
      const dir = await editedAdapter(good, join(tmp.path, 'lerobot-noB'), (a) => {
        a.tensors.delete('base_model.model.model.state_proj.lora_B.default.weight');
      });
      const err = await loadTrainedPi0(opts(dir)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AdapterRefusedError);
      expect((err as Error).message).toMatch(/base_model\.model\.model\.state_proj \(lora_B missing\)/);
    });

    it("a head's whole LoRA pair missing", async () => {
      const dir = await editedAdapter(good, join(tmp.path, 'lerobot-noAB'), (a) => {
        a.tensors.delete('base_model.model.model.action_in_proj.lora_A.default.weight');
        a.tensors.delete('base_model.model.model.action_in_proj.lora_B.default.weight');
      });
      const err = await loadTrainedPi0(opts(dir)).catch((e: unknown) => e);
      if (process.env.SHOW_ERRORS) console.log((err as Error).message);
      expect(err).toBeInstanceOf(AdapterRefusedError);
      expect((err as Error).message).toMatch(/action_in_proj\.lora_A/);
    });
  });
});
