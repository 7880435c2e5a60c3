// Acceptance against fixtures/peft-tiny-gemma (transformers 5.17 + PEFT 0.21 + torch 2.11 outputs).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  fromFloat32,
  loadPeftAdapter,
  openSafetensors,
  savePeftAdapter,
  toFloat32,
  type RawTensor,
} from '@vla-lora/checkpoint-io';
import { countParams, gemmaCausalLmSpecs } from '@vla-lora/gemma-config';
import {
  injectLora,
  loraConfigFromPeft,
  mergeLora,
  namedParameters,
  type InjectReport,
  type PeftConfigJson,
} from '@vla-lora/lora-core';
import { checkAgainstSpecs } from '../params/check-specs.js';
import { FIXTURES, maxAbsDiff, setupBackend } from '../test-support.js';
import { loadGemmaForCausalLM, type GemmaForCausalLM } from './causal-lm.js';
import { toHfGemmaConfig } from './config.js';

const DIR = join(FIXTURES, 'peft-tiny-gemma');
const PEFT_PREFIX = 'base_model.model.';

interface Io {
  ids: number[][];
  labels: number[][];
  logits: Record<string, Float32Array>;
}

async function readIo(): Promise<Io> {
  const r = await openSafetensors(join(DIR, 'io.safetensors'));
  try {
    const rows = async (name: string): Promise<number[][]> => {
      const flat = await r.readFloat32(name);
      const [b, s] = r.info(name).shape as [number, number];
      return Array.from({ length: b }, (_, i) => Array.from(flat.subarray(i * s, (i + 1) * s)));
    };
    const logits: Record<string, Float32Array> = {};
    for (const k of ['logits_base', 'logits_lora', 'logits_loaded', 'logits_merged', 'logits_rslora'])
      logits[k] = await r.readFloat32(k);
    return { ids: await rows('input_ids'), labels: await rows('labels'), logits };
  } finally {
    await r.close();
  }
}

/** base + a PEFT adapter directory: wrap as its config says, then load every LoRA tensor (all must land). */
async function withAdapter(adapterDir: string): Promise<{ model: GemmaForCausalLM; report: InjectReport }> {
  const { model } = await loadGemmaForCausalLM(join(DIR, 'base'));
  const adapter = await loadPeftAdapter(adapterDir);
  const { config } = loraConfigFromPeft(adapter.config as unknown as PeftConfigJson);
  const report = injectLora(model, config);
  const params = new Map(namedParameters(model));
  const lora = [...params.keys()].filter((n) => n.includes('.lora_'));
  expect(adapter.tensors.size).toBe(lora.length);
  for (const [key, raw] of adapter.tensors) {
    expect(key.startsWith(PEFT_PREFIX)).toBe(true);
    const v = params.get(key.slice(PEFT_PREFIX.length));
    if (v === undefined) throw new Error(`adapter tensor ${key} has no parameter`);
    expect(raw.shape).toEqual(v.shape);
    v.assign(tf.tensor(toFloat32(raw), v.shape));
  }
  return { model, report };
}

function logitsDiff(model: GemmaForCausalLM, io: Io, key: string): number {
  const t = model.logits(io.ids);
  const d = maxAbsDiff(t.dataSync(), io.logits[key]!);
  t.dispose();
  return d;
}

describe('GemmaForCausalLM on the transformers + PEFT fixture', () => {
  let io: Io;
  let expected: Record<string, unknown>;
  let tmp: string;

  beforeAll(async () => {
    await setupBackend();
    io = await readIo();
    expected = JSON.parse(
      await (await import('node:fs/promises')).readFile(join(DIR, 'expected.json'), 'utf8'),
    ) as Record<string, unknown>;
    tmp = await mkdtemp(join(tmpdir(), 'models-fixture-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('base weights alone reproduce logits_base', async () => {
    const { model, report } = await loadGemmaForCausalLM(join(DIR, 'base'));
    expect(report.loaded).toBe(model.namedParameters().length);
    expect(report.ignored).toEqual([]);
    const d = logitsDiff(model, io, 'logits_base');
    console.log('logits_base max abs diff', d);
    expect(d).toBeLessThanOrEqual(1e-4);
  });

  it('base + adapter reproduces logits_lora and logits_loaded; merged reproduces logits_merged', async () => {
    const { model, report } = await withAdapter(join(DIR, 'adapter'));
    expect(report.count).toBe(14);
    const dLora = logitsDiff(model, io, 'logits_lora');
    const dLoaded = logitsDiff(model, io, 'logits_loaded');
    console.log('logits_lora / logits_loaded max abs diff', dLora, dLoaded);
    expect(dLora).toBeLessThanOrEqual(1e-4);
    expect(dLoaded).toBeLessThanOrEqual(1e-4);
    // LoRA really changed the output (the fixture's max |lora - base| is 0.67).
    expect(logitsDiff(model, io, 'logits_base')).toBeGreaterThan(0.1);
    await mergeLora(model);
    const dMerged = logitsDiff(model, io, 'logits_merged');
    console.log('logits_merged max abs diff', dMerged);
    expect(dMerged).toBeLessThanOrEqual(1e-4);
  });

  it('base + rslora/ reproduces logits_rslora', async () => {
    const { model, report } = await withAdapter(join(DIR, 'rslora'));
    expect(report.count).toBe(4);
    const d = logitsDiff(model, io, 'logits_rslora');
    console.log('logits_rslora max abs diff', d);
    expect(d).toBeLessThanOrEqual(1e-4);
  });

  it('counts 15,872 trainable of 102,208, from the specs and from the wrapped model', async () => {
    const { model, report } = await withAdapter(join(DIR, 'adapter'));
    expect([report.trainableParameters, report.totalParameters]).toEqual([15_872, 102_208]);
    expect([expected['trainable'], expected['total']]).toEqual([15_872, 102_208]);
    const specs = gemmaCausalLmSpecs(toHfGemmaConfig(model.config), {
      lora: { rank: 8, targets: ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] },
    });
    const counts = countParams(specs);
    expect([counts.trainable, counts.total]).toEqual([15_872, 102_208]);
    // The wrapped tree holds exactly the declared parameters (names and shapes).
    checkAgainstSpecs(model, specs);
    const trainable = namedParameters(model).filter(([, v]) => v.trainable);
    expect(trainable.every(([n]) => n.includes('.lora_'))).toBe(true);
  });

  it('our saved adapter round-trips through checkpoint-io and reproduces logits_lora', async () => {
    const { model } = await withAdapter(join(DIR, 'adapter'));
    const original = await loadPeftAdapter(join(DIR, 'adapter'));
    const tensors = new Map<string, RawTensor>();
    for (const [n, v] of namedParameters(model)) {
      if (n.includes('.lora_')) tensors.set(PEFT_PREFIX + n, fromFloat32(v.dataSync() as Float32Array, v.shape, 'F32'));
    }
    expect([...tensors.keys()].sort()).toEqual([...original.tensors.keys()].sort());
    const out = join(tmp, 'saved-adapter');
    await savePeftAdapter(out, { config: original.config, tensors });
    const { model: again } = await withAdapter(out);
    expect(logitsDiff(again, io, 'logits_lora')).toBeLessThanOrEqual(1e-4);
  });

  /** One forward/backward from the adapter state: loss and the gradients of every LoRA tensor. */
  async function stepGrads(): Promise<{
    model: GemmaForCausalLM;
    trainable: Array<[string, tf.Variable]>;
    loss: number;
    grads: Map<string, tf.Tensor>;
  }> {
    const { model } = await withAdapter(join(DIR, 'adapter'));
    const trainable = namedParameters(model).filter(([, v]) => v.trainable);
    const { value, grads } = tf.variableGrads(
      () => model.loss(io.ids, io.labels),
      trainable.map(([, v]) => v),
    );
    const loss = value.dataSync()[0]!;
    value.dispose();
    return { model, trainable, loss, grads: new Map(trainable.map(([n, v]) => [n, grads[v.name]!])) };
  }
  const fixtureKey = (kind: 'grad' | 'after', name: string): string =>
    `${kind}.${PEFT_PREFIX}${name.replace('.default.', '.')}`;

  it('one training step: loss_step_start within 1e-5 and every grad.* within 1e-4 rel / 1e-6 abs', async () => {
    const { trainable, loss, grads } = await stepGrads();
    expect(trainable.length).toBe(28);
    console.log('loss', loss, 'expected', expected['loss_step_start']);
    expect(Math.abs(loss - (expected['loss_step_start'] as number))).toBeLessThanOrEqual(1e-5);
    const step = await openSafetensors(join(DIR, 'step.safetensors'));
    try {
      let worst = 0;
      let checked = 0;
      for (const [name] of trainable) {
        const key = fixtureKey('grad', name);
        const want = await step.readFloat32(key);
        const got = grads.get(name)!.dataSync();
        expect(got.length).toBe(want.length);
        for (let i = 0; i < want.length; i++) {
          const err = Math.abs(got[i]! - want[i]!);
          if (!(err <= 1e-6 || err <= 1e-4 * Math.abs(want[i]!)))
            throw new Error(`${key}[${i}]: ${got[i]} vs ${want[i]}`);
          worst = Math.max(worst, err);
          checked++;
        }
      }
      expect(checked).toBe(15_872);
      console.log('max abs grad error', worst);
    } finally {
      await step.close();
    }
  });
  // The AdamW step on these gradients (after.*) is checked in packages/trainer/src/optim/adamw.fixture.test.ts.
});
