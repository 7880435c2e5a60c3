import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertAdapterName,
  loadPeftAdapter,
  openSafetensors,
  verifyAdapter,
  type RawTensor,
} from '@vla-lora/checkpoint-io';
import { extractAdapter, parseLoraParam } from './adapter.js';
import { AdapterConfigError, OutputExistsError } from './errors.js';
import { formatInspectReport, inspectCheckpoint } from './inspect.js';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';

const FIX = fileURLToPath(new URL('../../../fixtures/zero/', import.meta.url));
const Z3 = join(FIX, 'zero3-w4-bf16');

let tmp: string;
let expected: Map<string, RawTensor>;
beforeAll(async () => {
  tmp = await testTmpDir('zero-merge-adapter-');
  const r = await openSafetensors(join(Z3, 'expected.safetensors'));
  expected = new Map();
  for await (const [k, t] of r.tensors()) expected.set(k, t);
  await r.close();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('parseLoraParam', () => {
  it('splits module, kind and adapter name', () => {
    expect(parseLoraParam('base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight')).toEqual({
      name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight',
      module: 'base_model.model.model.layers.0.self_attn.q_proj',
      kind: 'lora_A',
      adapterName: 'default',
    });
    expect(parseLoraParam('m.embed.lora_embedding_A.other')?.adapterName).toBe('other');
    expect(parseLoraParam('m.q_proj.base_layer.weight')).toBeNull();
  });
});

describe('extractAdapter on the ZeRO-3 fixture', () => {
  it('writes a PEFT adapter whose every LoRA tensor equals zero_to_fp32 output, and that verifies', async () => {
    const out = join(tmp, 'adapter');
    const r = await extractAdapter(join(Z3, 'checkpoint-5000'), out);
    expect(r.adapterName).toBe('default');
    expect(r.loraTensors).toBe(28);
    const expectedLora = [...expected].filter(([k]) => parseLoraParam(k) !== null);
    expect(expectedLora.length).toBe(28);
    const values = expectedLora.reduce((a, [, t]) => a + t.bytes.byteLength / 4, 0);
    expect(r.loraValues).toBe(values);
    expect(r.report.loraTensors).toBe(28);
    expect(r.report.loraValues).toBe(values);
    expect(r.configSource).toBe(join(Z3, 'checkpoint-5000', 'adapter_config.json'));

    // on disk: PEFT names (adapter name stripped); loaded back: names with it, equal bytes
    const disk = await openSafetensors(join(out, 'adapter_model.safetensors'));
    const diskNames = disk.list().map((t) => t.name);
    await disk.close();
    expect(diskNames.every((n) => !n.includes('.default.'))).toBe(true);
    expect(diskNames).toContain('base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight');
    const loaded = await loadPeftAdapter(out);
    expect(loaded.tensors.size).toBe(28);
    for (const [k, w] of expectedLora) {
      const g = loaded.tensors.get(k);
      expect(g, k).toBeDefined();
      expect(g!.dtype).toBe(w.dtype);
      expect(g!.shape).toEqual(w.shape);
      expect(Buffer.from(g!.bytes).equals(Buffer.from(w.bytes)), k).toBe(true);
    }
    expect(loaded.config.r).toBe(8);
    expect(loaded.config.lora_alpha).toBe(16);
    const again = await verifyAdapter(out);
    expect(again.loraTensors).toBe(28);
  });

  it('adds --modules-to-save tensors (head weights and its buffer) under their module names', async () => {
    const out = join(tmp, 'adapter-head');
    const r = await extractAdapter(join(Z3, 'checkpoint-5000'), out, { modulesToSave: ['regression_head'] });
    expect(r.extraTensors).toBe(5);
    const loaded = await loadPeftAdapter(out);
    for (const k of [
      'regression_head.out.weight',
      'regression_head.out.bias',
      'regression_head.projections.0.0.weight',
      'regression_head.running_mean',
    ]) {
      const g = [...loaded.tensors].find(([n]) => n === k || n === insertAdapterName(k, 'default'));
      expect(g, k).toBeDefined();
      expect(Buffer.from(g![1].bytes).equals(Buffer.from(expected.get(k)!.bytes)), k).toBe(true);
    }
    expect(loaded.config.modules_to_save).toEqual(['regression_head']);
    expect(r.report.otherTensors).toBe(5);
  });

  it('needs --lora-alpha when there is no adapter_config.json, and then writes one', async () => {
    const copy = join(tmp, 'noconfig');
    await cp(join(Z3, 'checkpoint-5000'), copy, { recursive: true });
    await rm(join(copy, 'adapter_config.json'));
    await expect(extractAdapter(copy, join(tmp, 'never'))).rejects.toBeInstanceOf(AdapterConfigError);
    const r = await extractAdapter(copy, join(tmp, 'flags'), { loraAlpha: 16 });
    const cfg = JSON.parse(await readFile(join(tmp, 'flags', 'adapter_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(cfg['r']).toBe(8);
    expect(cfg['lora_alpha']).toBe(16);
    expect(cfg['target_modules']).toEqual([
      'down_proj',
      'gate_proj',
      'k_proj',
      'o_proj',
      'q_proj',
      'up_proj',
      'v_proj',
    ]);
    expect(r.configSource).toBe('flags');
  });

  it('refuses to overwrite unless asked; a config contradicting the weights leaves no output', async () => {
    const out = join(tmp, 'exists');
    await extractAdapter(join(Z3, 'checkpoint-5000'), out);
    await expect(extractAdapter(join(Z3, 'checkpoint-5000'), out)).rejects.toBeInstanceOf(OutputExistsError);
    await extractAdapter(join(Z3, 'checkpoint-5000'), out, { overwrite: true });

    const bad = join(tmp, 'bad-config.json');
    const cfg = JSON.parse(await readFile(join(Z3, 'checkpoint-5000', 'adapter_config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    await writeFile(bad, JSON.stringify({ ...cfg, r: 4 }));
    const out2 = join(tmp, 'wrong-rank');
    await expect(extractAdapter(join(Z3, 'checkpoint-5000'), out2, { configPath: bad })).rejects.toThrow(/rank|r=|4/);
    await expect(readFile(join(out2, 'adapter_model.safetensors'))).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('inspectCheckpoint', () => {
  it('reports stage, world size, dtype, counts, tied weights and the placeholder adapter', async () => {
    const r = await inspectCheckpoint(join(Z3, 'checkpoint-5000'));
    expect(r.stage).toBe(3);
    expect(r.worldSize).toBe(4);
    expect(r.dtype16).toBe('BF16');
    expect(r.prefix).toBe('bf16_');
    expect(r.tag).toBe('global_step5000');
    expect(r.files.length).toBe(8);
    expect(r.counts.trainable.count).toBe(32);
    expect(r.counts.frozen.count).toBe(20);
    expect(r.counts.buffer.count).toBe(1);
    expect(r.sharedParams).toEqual([
      ['base_model.model.lm_head.weight', 'base_model.model.model.embed_tokens.weight', true],
    ]);
    expect(r.lora.tensors).toBe(28);
    expect(r.adapterFile).toMatchObject({ bytes: 40, tensors: 0, placeholder: true });
    expect(r.recoverCommand).toMatch(/extract-adapter/);
    const text = formatInspectReport(r);
    expect(text).toMatch(/PLACEHOLDER/);
    expect(text).toMatch(/ZeRO stage\s+3/);

    const z2 = await inspectCheckpoint(join(FIX, 'zero2-w3-fp16', 'checkpoint-5000'));
    expect(z2.stage).toBe(2);
    expect(z2.worldSize).toBe(3);
    expect(z2.partitionCount).toEqual([3, 3]);
    expect(z2.dtype16).toBe('F16');
    expect(z2.prefix).toBe('');
    expect(z2.files.map((f) => f.name)).toContain('mp_rank_00_model_states.pt');
  });
});
