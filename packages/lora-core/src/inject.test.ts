import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../test/backend.js';
import { Linear, type LinearLike } from './linear.js';
import type { LoraLinear } from './lora-linear.js';
import { ModuleBase, ModuleList, namedParameters, getModule, parameterMap } from './module.js';
import {
  injectLora,
  unloadLora,
  mergeLora,
  unmergeLora,
  loraLayers,
  dropoutState,
  restoreDropoutState,
} from './inject.js';
import { setTraining } from './module.js';
import { TargetNotFoundError, UnsupportedTargetError, LoraConfigError } from './errors.js';

beforeAll(async () => {
  await useBackend('wasm');
});

class Attn extends ModuleBase {
  constructor(d: number, seed: number) {
    super();
    for (const [i, n] of ['q_proj', 'k_proj', 'v_proj', 'o_proj'].entries())
      this.registerChild(n, new Linear(d, d, { seed: seed + i }));
  }
  apply(x: tf.Tensor): tf.Tensor {
    // looks children up at call time, so wrapped layers are used
    const p = (n: string): LinearLike => this.child<LinearLike>(n);
    return p('o_proj').apply(tf.add(tf.add(p('q_proj').apply(x), p('k_proj').apply(x)), p('v_proj').apply(x)));
  }
}
class Block extends ModuleBase {
  constructor(d: number, seed: number) {
    super();
    this.registerChild('self_attn', new Attn(d, seed));
    this.registerChild('mlp', new ModuleList([new Linear(d, 2 * d, { seed: seed + 10 })]));
  }
}
class Toy extends ModuleBase {
  constructor(d = 8, layers = 3) {
    super();
    const inner = new ModuleList(Array.from({ length: layers }, (_, i) => new Block(d, 100 * i)));
    const model = new (class extends ModuleBase {})();
    (model as unknown as { registerChild: (n: string, m: unknown) => void }).registerChild('layers', inner);
    this.registerChild('model', model);
    this.registerChild('lm_head', new Linear(d, 16, { seed: 999 }));
  }
  apply(x: tf.Tensor): tf.Tensor {
    let h = x;
    for (let i = 0; i < 3; i++) h = (getModule(this, `model.layers.${i}.self_attn`) as Attn).apply(h);
    return this.child<LinearLike>('lm_head').apply(h);
  }
}

describe('injectLora', () => {
  it('wraps matching Linears, reports them, and keeps PEFT names', async () => {
    const m = new Toy();
    const rep = injectLora(m, { targetModules: ['q_proj', 'v_proj'], r: 2, loraAlpha: 4, seed: 1 });
    expect(rep.count).toBe(6);
    expect(rep.byTarget['q_proj']).toEqual([
      'model.layers.0.self_attn.q_proj',
      'model.layers.1.self_attn.q_proj',
      'model.layers.2.self_attn.q_proj',
    ]);
    expect(rep.wrapped[0]).toMatchObject({ name: 'model.layers.0.self_attn.q_proj', r: 2, alpha: 4, scaling: 2 });
    const names = namedParameters(m).map(([n]) => n);
    expect(names).toContain('model.layers.1.self_attn.v_proj.lora_A.default.weight');
    expect(names).toContain('model.layers.1.self_attn.v_proj.base_layer.weight');
    expect(names).toContain('model.layers.1.self_attn.k_proj.weight');
    expect(rep.loraParameters).toBe(6 * 2 * (8 + 8));
    // PEFT's mark_only_adapters_as_trainable: only lora_A / lora_B are trainable
    const trainable = namedParameters(m, { trainableOnly: true }).map(([n]) => n);
    expect(trainable).toHaveLength(12);
    expect(trainable.every((n) => /lora_[AB]\.default\.weight$/.test(n))).toBe(true);
    expect(rep.trainableParameters).toBe(rep.loraParameters);
  });

  it('the wrapped model computes the same output before training (B = 0) and uses the adapters', async () => {
    const m = new Toy();
    const x = tf.tensor(
      Array.from({ length: 16 }, (_, i) => Math.sin(i)),
      [2, 8],
    );
    const y0 = Float32Array.from(await m.apply(x).data());
    injectLora(m, { targetModules: '.*\\.(q|k|v|o)_proj', r: 2, loraAlpha: 2, seed: 5 });
    expect(Array.from(await m.apply(x).data())).toEqual(Array.from(y0));
    const q = getModule(m, 'model.layers.1.self_attn.q_proj') as LoraLinear;
    q.loraB.assign(tf.onesLike(q.loraB));
    const y1 = await m.apply(x).data();
    expect(Math.max(...Array.from(y1).map((v, i) => Math.abs(v - y0[i]!)))).toBeGreaterThan(1e-4);
    // the loss reaches every adapter
    const { grads } = tf.variableGrads(() => tf.sum(tf.square(m.apply(x))) as tf.Scalar);
    expect(Object.keys(grads)).toHaveLength(loraLayers(m).length * 2);
  });

  it('throws naming the target that matched nothing (typo) and changes nothing', async () => {
    const m = new Toy();
    const before = namedParameters(m).map(([n]) => n);
    let err: unknown;
    try {
      injectLora(m, { targetModules: ['q_proj', 'v_projj'] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TargetNotFoundError);
    expect((err as TargetNotFoundError).unmatched).toEqual(['v_projj']);
    expect((err as Error).message).toMatch(/"v_projj"/);
    expect(namedParameters(m).map(([n]) => n)).toEqual(before);
  });

  it('throws when nothing matched at all (list or regex)', async () => {
    expect(() => injectLora(new Toy(), { targetModules: ['query'] })).toThrow(TargetNotFoundError);
    expect(() => injectLora(new Toy(), { targetModules: 'q_proj' })).toThrow(/No modules were targeted/); // fullmatch, not search
    expect(() => injectLora(new Toy(), { targetModules: ['q_proj'], excludeModules: ['q_proj'] })).toThrow(/excluded/);
  });

  it('refuses a non-Linear target and a second adapter on the same layer', async () => {
    expect(() => injectLora(new Toy(), { targetModules: ['self_attn'] })).toThrow(UnsupportedTargetError);
    const m = new Toy();
    injectLora(m, { targetModules: ['q_proj'] });
    expect(() => injectLora(m, { targetModules: ['q_proj'] })).toThrow(LoraConfigError);
    // modules inside a LoraLinear (base_layer, lora_A.default) are never targets
    expect(() => injectLora(m, { targetModules: ['base_layer'] })).toThrow(TargetNotFoundError);
  });

  it('honours rank_pattern / alpha_pattern / rsLoRA / exclude_modules / layers_to_transform', async () => {
    const m = new Toy();
    const rep = injectLora(m, {
      targetModules: ['q_proj', 'v_proj', 'mlp.0'],
      r: 4,
      loraAlpha: 8,
      useRslora: true,
      rankPattern: { v_proj: 2 },
      alphaPattern: { 'layers\\.2\\.self_attn\\.q_proj': 1 },
      excludeModules: ['layers.1.self_attn.q_proj'],
    });
    const byName = Object.fromEntries(rep.wrapped.map((w) => [w.name, w]));
    expect(byName['model.layers.0.self_attn.v_proj']).toMatchObject({ r: 2, alpha: 8, scaling: 8 / Math.sqrt(2) });
    expect(byName['model.layers.2.self_attn.q_proj']).toMatchObject({ r: 4, alpha: 1, scaling: 0.5 });
    expect(byName['model.layers.1.self_attn.q_proj']).toBeUndefined();
    expect(rep.skipped).toEqual([{ name: 'model.layers.1.self_attn.q_proj', reason: 'excluded' }]);
    expect(rep.unmatchedExcludes).toEqual([]);
    expect(
      injectLora(new Toy(), { targetModules: ['q_proj'], excludeModules: ['layers.9.self_attn.q_proj'] })
        .unmatchedExcludes,
    ).toEqual(['layers.9.self_attn.q_proj']);
    expect(byName['model.layers.0.mlp.0']).toMatchObject({ inFeatures: 8, outFeatures: 16 });
    const l = injectLora(new Toy(), { targetModules: ['o_proj'], layersToTransform: [1] });
    expect(l.wrapped.map((w) => w.name)).toEqual(['model.layers.1.self_attn.o_proj']);
  });

  it("'all-linear' wraps every Linear except the output head", async () => {
    const rep = injectLora(new Toy(), { targetModules: 'all-linear' });
    expect(rep.count).toBe(3 * 5);
    expect(rep.wrapped.some((w) => w.name === 'lm_head')).toBe(false);
  });

  it('modules_to_save stay trainable and are never wrapped', async () => {
    const m = new Toy();
    injectLora(m, { targetModules: ['q_proj', 'lm_head'], modulesToSave: ['lm_head'] });
    expect(getModule(m, 'lm_head')).toBeInstanceOf(Linear);
    expect(parameterMap(m).get('lm_head.weight')!.trainable).toBe(true);
    expect(parameterMap(m).get('model.layers.0.self_attn.k_proj.weight')!.trainable).toBe(false);
  });

  it('merge / unmerge / unload over the tree', async () => {
    const m = new Toy();
    injectLora(m, { targetModules: ['q_proj', 'o_proj'], initLoraWeights: 'openpi', seed: 3 });
    const x = tf.tensor(
      Array.from({ length: 16 }, (_, i) => Math.cos(i)),
      [2, 8],
    );
    const y = Float32Array.from(await m.apply(x).data());
    expect(await mergeLora(m)).toBe(6);
    const ym = await m.apply(x).data();
    expect(Math.max(...Array.from(ym).map((v, i) => Math.abs(v - y[i]!)))).toBeLessThan(1e-5);
    expect(unmergeLora(m)).toBe(6);
    const names = await unloadLora(m, { merge: true });
    expect(names).toHaveLength(6);
    expect(loraLayers(m)).toHaveLength(0);
    expect(getModule(m, 'model.layers.0.self_attn.q_proj')).toBeInstanceOf(Linear);
    const yu = await m.apply(x).data();
    expect(Math.max(...Array.from(yu).map((v, i) => Math.abs(v - y[i]!)))).toBeLessThan(1e-5);
  });

  it('dropout state per layer round-trips for exact resume, and refuses a mismatched state', async () => {
    const m = new Toy();
    injectLora(m, { targetModules: ['q_proj'], loraDropout: 0.3, seed: 9 });
    setTraining(m, true);
    const x = tf.ones([2, 8]);
    m.apply(x);
    m.apply(x);
    const st = dropoutState(m);
    expect(Object.values(st)).toEqual([2, 2, 2]);
    const m2 = new Toy();
    injectLora(m2, { targetModules: ['q_proj'], loraDropout: 0.3, seed: 9 });
    restoreDropoutState(m2, st);
    expect(dropoutState(m2)).toEqual(st);
    expect(() => restoreDropoutState(m2, { 'model.layers.0.self_attn.q_proj': 1 })).toThrow(/missing/);
  });
});
