// Acceptance against fixtures/peft-tiny-gemma (transformers 5.17 + PEFT 0.21 + torch 2.11 outputs).
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors } from '@vla-lora/checkpoint-io';
import { FIXTURES, maxAbsDiff, setupBackend } from '../test-support.js';
import { loadGemmaForCausalLM } from './causal-lm.js';

const DIR = join(FIXTURES, 'peft-tiny-gemma');

async function readIo(): Promise<{ ids: number[][]; labels: number[][]; logits: Record<string, Float32Array> }> {
  const r = await openSafetensors(join(DIR, 'io.safetensors'));
  try {
    const rows = async (name: string): Promise<number[][]> => {
      const flat = await r.readFloat32(name);
      const [b, s] = r.info(name).shape as [number, number];
      return Array.from({ length: b }, (_, i) => Array.from(flat.subarray(i * s, (i + 1) * s)));
    };
    const logits: Record<string, Float32Array> = {};
    for (const k of ['logits_base', 'logits_lora', 'logits_loaded', 'logits_merged', 'logits_rslora']) logits[k] = await r.readFloat32(k);
    return { ids: await rows('input_ids'), labels: await rows('labels'), logits };
  } finally {
    await r.close();
  }
}

describe('GemmaForCausalLM on the transformers fixture', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  it('base weights alone reproduce logits_base (max abs diff <= 1e-4)', async () => {
    const io = await readIo();
    const { model, report } = await loadGemmaForCausalLM(join(DIR, 'base'));
    expect(report.loaded).toBe(model.namedParameters().length);
    const logits = model.logits(io.ids);
    expect(logits.shape).toEqual([2, 12, 256]);
    const diff = maxAbsDiff(logits.dataSync(), io.logits['logits_base']!);
    console.log('logits_base max abs diff', diff);
    expect(diff).toBeLessThanOrEqual(1e-4);
    logits.dispose();
  });
});
