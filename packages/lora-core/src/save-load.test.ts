import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPeftAdapter, openSafetensors } from '@vla-lora/checkpoint-io';
import { useBackend } from '../test/backend.js';
import { treeFromSafetensors } from '../test/state-dict-tree.js';
import { loadAdapter, saveAdapter, applyAdapter, PEFT_PREFIX } from './save-load.js';
import { injectLora, loraLayers } from './inject.js';
import { namedParameters, getModule } from './module.js';
import { Linear } from './linear.js';
import { LoraLinear } from './lora-linear.js';
import { AdapterMismatchError } from './errors.js';
import { makeLoraConfig } from './config.js';

const FIX = fileURLToPath(new URL('../../../fixtures/peft-tiny-gemma/', import.meta.url));
const BASE = join(FIX, 'base/model.safetensors');
let tmp: string;

beforeAll(async () => {
  await useBackend('wasm');
  tmp = await mkdtemp(join(tmpdir(), 'lora-core-sl-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('adapters through checkpoint-io (PEFT format)', () => {
  it('loads the PEFT fixture adapter: injects 14 layers, 28 tensors, values and scaling from the file', async () => {
    const model = await treeFromSafetensors(BASE);
    const rep = await loadAdapter(join(FIX, 'adapter'), model);
    expect(rep.injected!.count).toBe(14);
    expect(rep.loaded).toHaveLength(28);
    expect(rep.injected!.trainableParameters).toBe(15_872); // expected.json "trainable"
    const file = await openSafetensors(join(FIX, 'adapter/adapter_model.safetensors'));
    try {
      const q = getModule(model, 'model.layers.1.self_attn.q_proj') as LoraLinear;
      expect(q).toBeInstanceOf(LoraLinear);
      expect(q.scaling).toBe(2);
      expect(Array.from(await q.loraB.data())).toEqual(
        Array.from(await file.readFloat32('base_model.model.model.layers.1.self_attn.q_proj.lora_B.weight')),
      );
    } finally {
      await file.close();
    }
    const rs = await treeFromSafetensors(BASE);
    const r2 = await loadAdapter(join(FIX, 'rslora'), rs);
    expect(r2.injected!.count).toBe(4);
    expect((getModule(rs, 'model.layers.0.self_attn.v_proj') as LoraLinear).scaling).toBe(4); // 8 / sqrt(4)
  });

  it("our saved adapter is byte-identical to PEFT's file and its config equals PEFT's", async () => {
    const model = await treeFromSafetensors(BASE);
    const rep = await loadAdapter(join(FIX, 'adapter'), model);
    const out = join(tmp, 'resaved');
    await saveAdapter(out, model, rep.config, { extra: rep.extra });
    expect(
      Buffer.compare(
        await readFile(join(out, 'adapter_model.safetensors')),
        await readFile(join(FIX, 'adapter/adapter_model.safetensors')),
      ),
    ).toBe(0);
    const ours = JSON.parse(await readFile(join(out, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    const peft = JSON.parse(await readFile(join(FIX, 'adapter/adapter_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(ours).toEqual(peft);
    // and it loads back into a fresh model with identical values
    const again = await treeFromSafetensors(BASE);
    await loadAdapter(out, again);
    const a = new Map(namedParameters(model));
    for (const [n, v] of namedParameters(again))
      expect(Array.from(await v.data())).toEqual(Array.from(await a.get(n)!.data()));
  });

  it('a freshly injected model saves PEFT names (base_model.model. + name, adapter name stripped on disk)', async () => {
    const model = await treeFromSafetensors(BASE);
    const rep = injectLora(model, { targetModules: ['q_proj', 'v_proj'], r: 4, loraAlpha: 8, seed: 1 });
    expect(rep.count).toBe(4);
    const dir = join(tmp, 'fresh');
    const names = await saveAdapter(
      dir,
      model,
      makeLoraConfig({ targetModules: ['q_proj', 'v_proj'], r: 4, loraAlpha: 8 }),
    );
    expect(names).toContain(`${PEFT_PREFIX}model.layers.0.self_attn.q_proj.lora_A.default.weight`);
    const f = await openSafetensors(join(dir, 'adapter_model.safetensors'));
    try {
      expect(
        f
          .list()
          .map((i) => i.name)
          .sort(),
      ).toEqual(
        ['0.self_attn.q_proj', '0.self_attn.v_proj', '1.self_attn.q_proj', '1.self_attn.v_proj']
          .flatMap((m) => ['A', 'B'].map((ab) => `base_model.model.model.layers.${m}.lora_${ab}.weight`))
          .sort(),
      );
    } finally {
      await f.close();
    }
  });

  it('throws naming missing keys when the model has LoRA the file lacks (no silent strict=False)', async () => {
    const model = await treeFromSafetensors(BASE);
    injectLora(model, { targetModules: ['q_proj', 'v_proj', 'k_proj'], r: 4, loraAlpha: 8 });
    // existing layers without rsLoRA: the rank/alpha/rslora check fires before the key check
    await expect(loadAdapter(join(FIX, 'rslora'), model)).rejects.toThrow(/rslora=false.*rslora=true/);
    const m2 = await treeFromSafetensors(BASE);
    injectLora(m2, { targetModules: ['q_proj', 'v_proj', 'k_proj'], r: 4, loraAlpha: 8, useRslora: true });
    const e2 = (await loadAdapter(join(FIX, 'rslora'), m2).catch((e: unknown) => e)) as AdapterMismatchError;
    expect(e2).toBeInstanceOf(AdapterMismatchError);
    expect(e2.missing.sort()).toEqual(
      [0, 1]
        .flatMap((l) =>
          ['A', 'B'].map((ab) => `${PEFT_PREFIX}model.layers.${l}.self_attn.k_proj.lora_${ab}.default.weight`),
        )
        .sort(),
    );
    expect(e2.message).toMatch(/missing in the file \(4\)/);
  });

  it('throws naming unexpected keys and shape mismatches, and leaves the model unchanged', async () => {
    const adapter = await loadPeftAdapter(join(FIX, 'adapter'));
    // a model with only layer 0 (as if the adapter belonged to a deeper model)
    const model = await treeFromSafetensors(BASE);
    const layers = getModule(model, 'model.layers');
    layers.setChild('1', new (class extends Linear {})(1, 1)); // layer 1 replaced by something without the targets
    const before = namedParameters(model).map(([n, v]) => [n, v.trainable]);
    const err = (() => {
      try {
        applyAdapter(
          {
            ...adapter,
            config: {
              ...adapter.config,
              target_modules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
            },
          },
          model,
        );
      } catch (e) {
        return e;
      }
      return null;
    })() as AdapterMismatchError;
    expect(err).toBeInstanceOf(AdapterMismatchError);
    expect(err.unexpected).toHaveLength(14);
    expect(err.unexpected.every((k) => k.includes('model.layers.1.'))).toBe(true);
    expect(loraLayers(model)).toHaveLength(0); // injection undone
    expect(namedParameters(model).map(([n, v]) => [n, v.trainable])).toEqual(before); // trainable flags restored

    // shapes: a tensor of the wrong rank
    const bad = new Map(adapter.tensors);
    const key = `${PEFT_PREFIX}model.layers.0.self_attn.q_proj.lora_A.default.weight`;
    const t = bad.get(key)!;
    bad.set(key, { dtype: 'F32', shape: [4, 64], bytes: t.bytes.slice(0, 4 * 64 * 4) });
    const m3 = await treeFromSafetensors(BASE);
    expect(() => applyAdapter({ ...adapter, tensors: bad }, m3)).toThrow(
      /shape mismatches \(1\).*q_proj\.lora_A\.default\.weight model \[8, 64\] file \[4, 64\]/,
    );
  });

  it('refuses to load into existing layers whose rank/alpha differ from the adapter config', async () => {
    const model = await treeFromSafetensors(BASE);
    injectLora(model, {
      targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      r: 8,
      loraAlpha: 8,
    });
    await expect(loadAdapter(join(FIX, 'adapter'), model)).rejects.toThrow(/alpha=8.*adapter r=8 alpha=16/);
    const ok = await treeFromSafetensors(BASE);
    injectLora(ok, {
      targetModules: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'],
      r: 8,
      loraAlpha: 16,
    });
    const rep = await loadAdapter(join(FIX, 'adapter'), ok, { inject: false });
    expect(rep.injected).toBeNull();
    expect(rep.loaded).toHaveLength(28);
  });
});
