// Full fine-tuning gradients of a grouped-query Gemma with key padding, against the plain-torch
// transformers-equivalent in scripts/torch_gemma.py (Debian python3-torch).
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { openSafetensors, writeSafetensors, type SafetensorsEntry } from '@vla-lora/checkpoint-io';
import { namedParameters } from '@vla-lora/lora-core';
import { normalArray, SeededRandom } from '../rng/random-source.js';
import { hasTorch, maxAbsDiff, setupBackend } from '../test-support.js';
import { GemmaForCausalLM } from './causal-lm.js';
import { parseGemmaConfig } from './config.js';

const SCRIPT = fileURLToPath(new URL('../../scripts/torch_gemma.py', import.meta.url));
const entry = (name: string, data: Float32Array, shape: number[]): SafetensorsEntry => ({
  name,
  dtype: 'F32',
  shape,
  data: new Uint8Array(data.buffer),
});

describe.skipIf(!hasTorch())('GemmaForCausalLM vs torch (GQA, key padding, every parameter trainable)', () => {
  let tmp: string;
  beforeAll(async () => {
    await setupBackend();
    tmp = await mkdtemp(join(tmpdir(), 'gemma-oracle-'));
  });
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('logits, loss and all gradients (tied embedding: lookup + head) agree', async () => {
    const hf = {
      model_type: 'gemma',
      vocab_size: 64,
      hidden_size: 32,
      intermediate_size: 48,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      head_dim: 8,
      rms_norm_eps: 1e-6,
      rope_theta: 10000,
    };
    const model = GemmaForCausalLM.create(parseGemmaConfig(hf));
    const rng = new SeededRandom(77);
    const weights: SafetensorsEntry[] = [];
    for (const [name, v] of namedParameters(model)) {
      const data = normalArray(rng, v.size).map((x) => x * (name.endsWith('norm.weight') ? 0.3 : 0.2));
      v.assign(tf.tensor(data, v.shape));
      weights.push(entry(name, data, v.shape));
    }
    const ids = [
      [3, 9, 27, 1, 40, 63, 5],
      [11, 2, 50, 7, 19, 0, 0],
    ];
    const attn = [
      [1, 1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 1, 0, 0],
    ];
    const labels = [ids[0]!, [11, 2, 50, 7, 19, -100, -100]];
    await writeSafetensors(join(tmp, 'w.safetensors'), weights);
    const flat = (rows: number[][]): Float32Array => Float32Array.from(rows.flat());
    await writeSafetensors(join(tmp, 'in.safetensors'), [
      entry('input_ids', flat(ids), [2, 7]),
      entry('attention_mask', flat(attn), [2, 7]),
      entry('labels', flat(labels), [2, 7]),
    ]);
    await writeFile(join(tmp, 'cfg.json'), JSON.stringify(hf));
    execFileSync(
      '/usr/bin/python3',
      [
        SCRIPT,
        'grads',
        join(tmp, 'cfg.json'),
        join(tmp, 'w.safetensors'),
        join(tmp, 'in.safetensors'),
        join(tmp, 'out.safetensors'),
      ],
      { timeout: 120_000 },
    );

    const params = namedParameters(model);
    const { value, grads } = tf.variableGrads(
      () => model.loss(ids, labels, { attentionMask: attn }),
      params.map(([, v]) => v),
    );
    const out = await openSafetensors(join(tmp, 'out.safetensors'));
    try {
      const logits = model.logits(ids, { attentionMask: attn });
      expect(maxAbsDiff(logits.dataSync(), await out.readFloat32('logits'))).toBeLessThan(1e-5);
      expect(Math.abs(value.dataSync()[0]! - (await out.readFloat32('loss'))[0]!)).toBeLessThan(1e-5);
      let worst = 0;
      for (const [name, v] of params) {
        const want = await out.readFloat32(`grad.${name}`);
        const got = grads[v.name]!.dataSync();
        for (let i = 0; i < want.length; i++) {
          const err = Math.abs(got[i]! - want[i]!);
          if (!(err <= 1e-6 || err <= 1e-4 * Math.abs(want[i]!)))
            throw new Error(`grad ${name}[${i}]: ${got[i]} vs torch ${want[i]}`);
          worst = Math.max(worst, err);
        }
      }
      console.log('gemma full fine-tune vs torch: max abs grad error', worst);
    } finally {
      await out.close();
    }
  });
});
