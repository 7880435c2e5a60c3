import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors, type SafetensorsEntry } from '@vla-lora/checkpoint-io';
import { getPi0Config } from '@vla-lora/gemma-config';
import { injectLora, namedParameters } from '@vla-lora/lora-core';
import { WeightsLayoutError, WeightsMismatchError } from '../errors.js';
import { SeededRandom } from '../rng/random-source.js';
import { maxAbsDiff, setupBackend } from '../test-support.js';
import {
  canonicalPi0AdapterKey,
  canonicalPi0AdapterKeys,
  mapPi0Layout,
  PI0_EMBED_KEY,
  PI0_TIED_HEAD_KEY,
} from './layout.js';
import { loadPi0Weights } from './load.js';
import { pi0LoraConfig } from './lora.js';
import { Pi0Policy } from './policy.js';

// Inverse of LeRobot's legacy renames: our name → the older lerobot/pi0 name.
function toLegacy(name: string): string {
  return name
    .replace('.paligemma.lm_head.', '.paligemma.language_model.lm_head.')
    .replace('.paligemma.model.language_model.', '.paligemma.language_model.model.')
    .replace('.paligemma.model.vision_tower.', '.paligemma.vision_tower.')
    .replace('.paligemma.model.multi_modal_projector.', '.paligemma.multi_modal_projector.');
}

interface WriteOpts {
  rename?: (name: string) => string;
  /** Which tied name(s) the file holds. */
  tied?: 'embed_tokens' | 'lm_head' | 'both';
  extra?: SafetensorsEntry[];
  drop?: string;
}

async function writeLayout(src: Pi0Policy, path: string, o: WriteOpts = {}): Promise<void> {
  const entries: SafetensorsEntry[] = [];
  const rename = o.rename ?? ((n: string) => n);
  for (const [name, v] of namedParameters(src)) {
    if (name === o.drop) continue;
    const data = new Uint8Array((v.dataSync() as Float32Array).slice().buffer);
    const e = (n: string): SafetensorsEntry => ({ name: rename(n), dtype: 'F32', shape: v.shape, data });
    if (name === PI0_EMBED_KEY) {
      const tied = o.tied ?? 'embed_tokens';
      if (tied !== 'lm_head') entries.push(e(PI0_EMBED_KEY));
      if (tied !== 'embed_tokens') entries.push(e(PI0_TIED_HEAD_KEY));
    } else entries.push(e(name));
  }
  entries.push(...(o.extra ?? []));
  await writeSafetensors(path, entries, { metadata: { format: 'pt' } });
}

function expectSameWeights(a: Pi0Policy, b: Pi0Policy): void {
  const want = new Map(namedParameters(a));
  for (const [name, v] of namedParameters(b)) {
    const w = want.get(name);
    if (!w) throw new Error(`no ${name} in source`);
    if (maxAbsDiff(w.dataSync(), v.dataSync()) !== 0) throw new Error(`${name} differs`);
  }
}

describe('pi0 weight layouts: detect, rename, tie, load strictly', () => {
  let tmp: string;
  const cfg = getPi0Config('pi0_tiny');
  let src: Pi0Policy;
  beforeAll(async () => {
    await setupBackend();
    tmp = await mkdtemp(join(tmpdir(), 'pi0-layout-'));
    src = Pi0Policy.create(cfg, { init: 'random', rng: new SeededRandom(31) });
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  const cases: [string, WriteOpts, string, RegExp][] = [
    ['openpi', {}, 'openpi', /openpi PyTorch layout/],
    ['openpi-lm_head-only', { tied: 'lm_head' }, 'openpi', /tied embedding read from lm_head/],
    ['openpi-both-tied', { tied: 'both' }, 'openpi', /lm_head.weight ignored/],
    ['lerobot', { rename: (n) => `model.${n}`, tied: 'lm_head' }, 'lerobot', /stripped "model\." from/],
    [
      'lerobot-legacy',
      {
        rename: (n) => `model.${toLegacy(n)}`,
        extra: [
          { name: 'normalize_inputs.buffer_observation_state.mean', dtype: 'F32', shape: [2], data: new Uint8Array(8) },
          { name: 'unnormalize_outputs.buffer_action.std', dtype: 'F32', shape: [2], data: new Uint8Array(8) },
        ],
      },
      'lerobot-legacy',
      /renamed \d+ keys \(4 legacy prefixes\).*ignored 2 LeRobot normalisation buffers/,
    ],
    ['lerobot-legacy-no-prefix-lm_head', { rename: toLegacy, tied: 'lm_head' }, 'lerobot-legacy', /read from lm_head/],
  ];
  for (const [name, opts, layout, describe] of cases) {
    it(`${name}: every parameter loads exactly and the layout is reported`, async () => {
      const file = join(tmp, `${name}.safetensors`);
      await writeLayout(src, file, opts);
      const dst = Pi0Policy.create(cfg);
      const lines: string[] = [];
      const report = await loadPi0Weights(dst, file, { onLayout: (d) => lines.push(d) });
      expect(report.layout.layout).toBe(layout);
      expect(lines).toEqual([report.layoutDescription]);
      expect(report.layoutDescription).toMatch(describe);
      expect(report.loaded).toBe(namedParameters(dst).length);
      expectSameWeights(src, dst);
    });
  }

  it('the legacy layout really uses the four old prefixes (real key names)', async () => {
    const names = namedParameters(src).map(([n]) => `model.${toLegacy(n)}`);
    expect(names).toContain('model.paligemma_with_expert.paligemma.language_model.model.embed_tokens.weight');
    expect(names.some((n) => n.startsWith('model.paligemma_with_expert.paligemma.vision_tower.vision_model.'))).toBe(
      true,
    );
    expect(names.some((n) => n.startsWith('model.paligemma_with_expert.paligemma.multi_modal_projector.'))).toBe(true);
    const m = mapPi0Layout([...names, 'model.paligemma_with_expert.paligemma.language_model.lm_head.weight']);
    expect(m.toFile.get(PI0_TIED_HEAD_KEY)).toBe('model.paligemma_with_expert.paligemma.language_model.lm_head.weight');
    expect(m.tied).toBe('both');
  });

  it('still strict after renaming: missing and unexpected keys are listed by name', async () => {
    const file = join(tmp, 'legacy-missing.safetensors');
    await writeLayout(src, file, {
      rename: (n) => `model.${toLegacy(n)}`,
      drop: 'paligemma_with_expert.paligemma.model.multi_modal_projector.linear.bias',
      extra: [{ name: 'model.paligemma_with_expert.stray.weight', dtype: 'F32', shape: [1], data: new Uint8Array(4) }],
    });
    const err = await loadPi0Weights(Pi0Policy.create(cfg), file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeightsMismatchError);
    expect((err as WeightsMismatchError).missing).toEqual([
      'paligemma_with_expert.paligemma.model.multi_modal_projector.linear.bias',
    ]);
    expect((err as WeightsMismatchError).unexpected).toEqual(['model.paligemma_with_expert.stray.weight']);
  });

  it('a file holding neither embed_tokens nor lm_head is missing the embedding', async () => {
    const file = join(tmp, 'no-embed.safetensors');
    await writeLayout(src, file, { drop: PI0_EMBED_KEY });
    await expect(loadPi0Weights(Pi0Policy.create(cfg), file)).rejects.toThrow(/missing \[.*embed_tokens\.weight\]/);
  });

  it('two keys for one parameter, or mixed layouts → WeightsLayoutError', async () => {
    expect(() =>
      mapPi0Layout([
        'paligemma_with_expert.paligemma.model.vision_tower.x.weight',
        'paligemma_with_expert.paligemma.vision_tower.x.weight',
      ]),
    ).toThrow(WeightsLayoutError);
    expect(() => mapPi0Layout(['model.action_in_proj.weight', 'action_out_proj.weight'])).toThrow(WeightsLayoutError);
  });

  it('a LoRA-wrapped policy loads base weights from the legacy LeRobot layout into base_layer', async () => {
    const loraCfg = getPi0Config('pi0_tiny_lora');
    const base = Pi0Policy.create(loraCfg, { init: 'random', rng: new SeededRandom(32) });
    const file = join(tmp, 'legacy-base.safetensors');
    await writeLayout(base, file, { rename: (n) => `model.${toLegacy(n)}`, tied: 'lm_head' });
    const dst = Pi0Policy.create(loraCfg);
    injectLora(dst, pi0LoraConfig(loraCfg));
    const report = await loadPi0Weights(dst, file);
    expect(report.skipped.length).toBeGreaterThan(0);
    expect(report.skipped.every((n) => n.includes('.lora_'))).toBe(true);
    const q = 'paligemma_with_expert.paligemma.model.language_model.layers.0.self_attn.q_proj';
    const a = new Map(namedParameters(base)).get(`${q}.weight`);
    const b = new Map(namedParameters(dst)).get(`${q}.base_layer.weight`);
    expect(a && b && maxAbsDiff(a.dataSync(), b.dataSync())).toBe(0);
  });
});

describe('adapter keys from any layout map onto ours', () => {
  it("LeRobot's pi0 PEFT adapter (expert q/v + the five heads) and legacy names", () => {
    // LeRobot wraps PI0Policy (whose .model is PI0Pytorch) with PEFT: base_model.model.model.…
    const lerobot = [
      'base_model.model.model.paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj.lora_A.weight',
      'base_model.model.model.paligemma_with_expert.gemma_expert.model.layers.0.self_attn.v_proj.lora_B.weight',
      'base_model.model.model.action_in_proj.lora_A.weight',
      'base_model.model.model.action_out_proj.lora_B.weight',
      'base_model.model.model.state_proj.lora_A.weight',
      'base_model.model.model.action_time_mlp_in.lora_A.weight',
      'base_model.model.model.action_time_mlp_out.weight', // modules_to_save, as PEFT saves it
      'base_model.model.model.paligemma_with_expert.paligemma.language_model.model.layers.1.mlp.up_proj.lora_A.weight',
    ];
    const m = canonicalPi0AdapterKeys(lerobot);
    expect([...m.keys()]).toEqual([
      'base_model.model.paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj.lora_A.weight',
      'base_model.model.paligemma_with_expert.gemma_expert.model.layers.0.self_attn.v_proj.lora_B.weight',
      'base_model.model.action_in_proj.lora_A.weight',
      'base_model.model.action_out_proj.lora_B.weight',
      'base_model.model.state_proj.lora_A.weight',
      'base_model.model.action_time_mlp_in.lora_A.weight',
      'base_model.model.action_time_mlp_out.weight',
      'base_model.model.paligemma_with_expert.paligemma.model.language_model.layers.1.mlp.up_proj.lora_A.weight',
    ]);
    // Our own keys are fixed points.
    for (const k of m.keys()) expect(canonicalPi0AdapterKey(k)).toBe(k);
    expect(() =>
      canonicalPi0AdapterKeys([
        'base_model.model.model.action_in_proj.lora_A.weight',
        'base_model.model.action_in_proj.lora_A.weight',
      ]),
    ).toThrow(WeightsLayoutError);
  });
});
