// The verifier (checkpoint-io's verifyAdapter) and the injector (injectLora) decide targets with the
// same rulebook: for every config, the modules injectLora wraps are exactly the modules verifyAdapter
// accepts weights for. Before the rulebook, the verifier ignored exclude_modules and
// layers_to_transform / layers_pattern and accepted weights the injector would never load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AdapterUntargetedError,
  serializeAdapterConfig,
  verifyAdapter,
  type PeftLoraConfig,
} from '@vla-lora/checkpoint-io';
import { useBackend } from '../test/backend.js';
import { treeFromSafetensors } from '../test/state-dict-tree.js';
import { saveAdapter } from './save-load.js';
import { injectLora } from './inject.js';
import { loraConfigToPeft, makeLoraConfig, type LoraConfigInput } from './config.js';

const FIX = fileURLToPath(new URL('../../../fixtures/peft-tiny-gemma/', import.meta.url));
const BASE = join(FIX, 'base/model.safetensors');
const ALL = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'];
let tmp: string;
let fullDir: string;
let allModules: string[];

beforeAll(async () => {
  await useBackend('wasm');
  tmp = await mkdtemp(join(tmpdir(), 'lora-core-rules-'));
  const model = await treeFromSafetensors(BASE);
  const cfg = makeLoraConfig({ targetModules: ALL, r: 4, loraAlpha: 8, initLoraWeights: false, seed: 1 });
  allModules = injectLora(model, cfg).wrapped.map((w) => w.name);
  fullDir = join(tmp, 'full');
  await saveAdapter(fullDir, model, cfg);
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const CONFIGS: LoraConfigInput[] = [
  { targetModules: ALL, excludeModules: ['model.layers.0.self_attn.q_proj'] },
  { targetModules: ALL, excludeModules: ['k_proj', 'mlp.up_proj'] },
  { targetModules: ALL, excludeModules: String.raw`.*layers\.1\.mlp\..*` },
  { targetModules: ALL, layersToTransform: [1] },
  { targetModules: ALL, layersToTransform: 0 },
  { targetModules: ALL, layersToTransform: [0], layersPattern: 'layers' },
  { targetModules: ALL, layersToTransform: [0, 1], layersPattern: ['h', 'layers'] },
  { targetModules: ['self_attn.q_proj', 'model.layers.1.mlp.down_proj'], layersToTransform: [0] },
  { targetModules: String.raw`.*\.(q|v)_proj`, excludeModules: String.raw`.*\.0\..*` },
  { targetModules: String.raw`model\.layers\.(?P<i>\d+)\.mlp\.\w+_proj` },
  { targetModules: 'all-linear', excludeModules: ['o_proj'] },
  { targetModules: ALL, modulesToSave: ['mlp'] },
];

describe('verifier and injector agree (one PEFT rulebook)', () => {
  it.each(CONFIGS.map((c, i) => [i, c] as const))('config %i', async (i, input) => {
    const config = makeLoraConfig({ r: 4, loraAlpha: 8, initLoraWeights: false, seed: 1, ...input });
    const model = await treeFromSafetensors(BASE);
    const wrapped = new Set(injectLora(model, config, { freezeNonLora: false }).wrapped.map((w) => w.name));
    expect(wrapped.size).toBeGreaterThan(0);
    const expectedOut = allModules.filter((m) => !wrapped.has(m)).sort();
    // every module's weights, under this config: the verifier must refuse exactly the modules not wrapped
    const dir = join(tmp, `c${i}`);
    await cp(fullDir, dir, { recursive: true });
    const json = loraConfigToPeft(config) as PeftLoraConfig;
    await writeFile(join(dir, 'adapter_config.json'), serializeAdapterConfig(json));
    const r = await verifyAdapter(dir).catch((e: unknown) => e);
    if (expectedOut.length === 0) {
      expect(r).not.toBeInstanceOf(Error);
    } else {
      expect(r).toBeInstanceOf(AdapterUntargetedError);
      expect((r as AdapterUntargetedError).modules.map((m) => m.module).sort()).toEqual(expectedOut);
    }
    // the adapter the injector itself saves verifies, with exactly the wrapped modules
    if (!config.modulesToSave) {
      const own = join(tmp, `own${i}`);
      await saveAdapter(own, model, config);
      expect((await verifyAdapter(own)).modules).toBe(wrapped.size);
    }
  });
});
