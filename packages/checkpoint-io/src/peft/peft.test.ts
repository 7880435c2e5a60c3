import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromFloat32, toFloat32 } from '../dtype/convert.js';
import { loadPeftAdapter, savePeftAdapter } from './adapter.js';
import { loraScaling } from './config.js';
import { readAdapterConfig } from './config-fs.js';
import {
  AdapterConfigError,
  AdapterEmptyTensorError,
  AdapterMissingTargetsError,
  AdapterNonFiniteError,
  AdapterPlaceholderError,
  AdapterRankMismatchError,
  AdapterSaveError,
  AdapterUnpairedError,
  AdapterUntargetedError,
  AdapterWeightsMissingError,
  PeftRegexError,
  PeftRuleError,
} from './errors.js';
import { insertAdapterName, removeAdapterName } from './names.js';
import { dumpPyJson, parsePyJson, pyFloatRepr } from './py-json.js';
import { verifyAdapter } from './verify-dir.js';

const fixture = (p: string): string => fileURLToPath(new URL(`../../../../fixtures/${p}`, import.meta.url));
const ADAPTER = fixture('peft-tiny-gemma/adapter');
const RSLORA = fixture('peft-tiny-gemma/rslora');
const ZERO3 = fixture('zero/zero3-w4-bf16/checkpoint-5000');
const scratch = (): Promise<string> => mkdtemp(join(tmpdir(), 'ckpt-peft-'));

async function copyAdapter(src = ADAPTER): Promise<string> {
  const dir = join(await scratch(), 'adapter');
  await cp(src, dir, { recursive: true });
  return dir;
}

describe('PEFT key names', () => {
  it('inserts and removes the adapter name as PEFT does', () => {
    const disk = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
    expect(insertAdapterName(disk, 'default')).toBe(
      'base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight',
    );
    expect(removeAdapterName('base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight', 'default')).toBe(
      disk,
    );
    // only the position before the suffix, never a module that happens to share the name
    expect(insertAdapterName('base_model.model.weight_proj.lora_B.weight', 'x')).toBe(
      'base_model.model.weight_proj.lora_B.x.weight',
    );
    expect(removeAdapterName('base_model.model.default.q.lora_A.default.weight', 'default')).toBe(
      'base_model.model.default.q.lora_A.weight',
    );
    expect(insertAdapterName('base_model.model.embed.lora_embedding_A', 'default')).toBe(
      'base_model.model.embed.lora_embedding_A.default',
    );
    expect(removeAdapterName('base_model.model.embed.lora_embedding_A.default', 'default')).toBe(
      'base_model.model.embed.lora_embedding_A',
    );
    expect(insertAdapterName('base_model.model.q.lora_magnitude_vector', 'default')).toBe(
      'base_model.model.q.lora_magnitude_vector.default.weight',
    );
    expect(removeAdapterName('base_model.model.q.lora_magnitude_vector.default.weight', 'default')).toBe(
      'base_model.model.q.lora_magnitude_vector',
    );
    expect(insertAdapterName('base_model.model.lora_head.weight', 'default')).toBe(
      'base_model.model.lora_head.default.weight',
    ); // as PEFT
    expect(insertAdapterName('base_model.model.lora_head.sub.weight', 'default')).toBe(
      'base_model.model.lora_head.sub.weight',
    );
    expect(insertAdapterName('base_model.model.score.weight', 'default')).toBe('base_model.model.score.weight');
  });
});

describe('Python-compatible JSON', () => {
  it('writes floats as Python repr does', () => {
    expect([0, 0.05, 1e-5, 0.0001, 1e16, 123.5, -2, 1e-7, 1.5e300].map(pyFloatRepr)).toEqual([
      '0.0',
      '0.05',
      '1e-05',
      '0.0001',
      '1e+16',
      '123.5',
      '-2.0',
      '1e-07',
      '1.5e+300',
    ]);
  });
  it('keeps float literals and escapes non-ASCII like json.dumps(indent=2, sort_keys=True)', () => {
    const v = parsePyJson('{"b": 1.0, "a": [1, 2.50], "c": "é\\u0007", "d": {}, "e": []}');
    expect(dumpPyJson(v)).toBe(
      '{\n  "a": [\n    1,\n    2.5\n  ],\n  "b": 1.0,\n  "c": "\\u00e9\\u0007",\n  "d": {},\n  "e": []\n}',
    );
  });
});

describe('loadPeftAdapter / savePeftAdapter', () => {
  it('loads the PEFT adapter with the adapter name restored and the config typed', async () => {
    const a = await loadPeftAdapter(ADAPTER);
    expect(a.adapterName).toBe('default');
    expect(a.tensors.size).toBe(28);
    const q = a.tensors.get('base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight');
    expect(q?.shape).toEqual([8, 64]);
    expect(a.config.r).toBe(8);
    expect(a.config.lora_alpha).toBe(16);
    expect(a.config['qalora_group_size']).toBe(16); // a field this package does not model, kept
    expect(loraScaling(a.config, 'model.layers.0.self_attn.q_proj')).toBe(2);
  });

  it('loads the rsLoRA adapter and computes alpha/sqrt(r)', async () => {
    const a = await loadPeftAdapter(RSLORA, { adapterName: 'robot' });
    expect(a.tensors.size).toBe(8);
    expect([...a.tensors.keys()].every((k) => k.includes('.robot.weight'))).toBe(true);
    expect(a.config.use_rslora).toBe(true);
    expect(loraScaling(a.config, 'model.layers.1.self_attn.v_proj')).toBe(8 / 2);
  });

  for (const [name, dir] of [
    ['adapter', ADAPTER],
    ['rslora', RSLORA],
  ] as const) {
    it(`save(load(${name})) is byte-identical to what PEFT wrote`, async () => {
      const out = join(await scratch(), 'out');
      await savePeftAdapter(out, await loadPeftAdapter(dir, { adapterName: 'other' }));
      for (const f of ['adapter_model.safetensors', 'adapter_config.json']) {
        const [a, b] = await Promise.all([readFile(join(dir, f)), readFile(join(out, f))]);
        expect(Buffer.compare(a, b), f).toBe(0);
      }
    });
  }

  it('keeps unknown config fields and float-ness of a hand-written config on round trip', async () => {
    const dir = await copyAdapter();
    const cfg = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    cfg['my_custom_field'] = { nested: [1, 'x'] };
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify(cfg));
    const out = join(await scratch(), 'out');
    await savePeftAdapter(out, await loadPeftAdapter(dir));
    const back = await readAdapterConfig(out);
    expect(back['my_custom_field']).toEqual({ nested: [1, 'x'] });
    expect(await readFile(join(out, 'adapter_config.json'), 'utf8')).toContain('"lora_dropout": 0.0');
  });

  it('loads adapter_model.bin written by torch.save (no code executed) to the same tensors as the safetensors file', async () => {
    const dir = join(await scratch(), 'bin-adapter');
    await cp(join(ADAPTER, 'adapter_config.json'), join(dir, 'adapter_config.json'), { recursive: true });
    await cp(
      fileURLToPath(new URL('../../test-data/adapter_model.bin', import.meta.url)),
      join(dir, 'adapter_model.bin'),
    );
    const fromBin = await loadPeftAdapter(dir);
    const fromSt = await loadPeftAdapter(ADAPTER);
    expect([...fromBin.tensors.keys()].sort()).toEqual([...fromSt.tensors.keys()].sort());
    for (const [k, t] of fromSt.tensors) {
      const b = fromBin.tensors.get(k)!;
      expect(b.dtype).toBe(t.dtype);
      expect(b.shape).toEqual(t.shape);
      expect(Buffer.compare(Buffer.from(b.bytes), Buffer.from(t.bytes))).toBe(0);
    }
    const r = await verifyAdapter(dir);
    expect(r.format).toBe('bin');
    expect(r.summary).toBe('28 LoRA tensors, 15872 values');
    // and it saves as PEFT's safetensors, byte for byte
    const out = join(await scratch(), 'out');
    await savePeftAdapter(out, fromBin);
    expect(
      Buffer.compare(
        await readFile(join(out, 'adapter_model.safetensors')),
        await readFile(join(ADAPTER, 'adapter_model.safetensors')),
      ),
    ).toBe(0);
  });

  it('does not add fields the config did not have (e.g. target_modules)', async () => {
    const dir = await copyAdapter(RSLORA);
    const cfg = JSON.parse(await readFile(join(dir, 'adapter_config.json'), 'utf8')) as Record<string, unknown>;
    delete cfg['target_modules'];
    await writeFile(join(dir, 'adapter_config.json'), JSON.stringify(cfg));
    const out = join(await scratch(), 'out');
    await savePeftAdapter(out, await loadPeftAdapter(dir));
    expect(await readFile(join(out, 'adapter_config.json'), 'utf8')).not.toContain('target_modules');
  });

  it('refuses to save an empty adapter or zero-element tensors', async () => {
    const a = await loadPeftAdapter(RSLORA);
    const out = join(await scratch(), 'out');
    await expect(savePeftAdapter(out, { config: a.config, tensors: new Map() })).rejects.toBeInstanceOf(
      AdapterSaveError,
    );
    const t = new Map([
      ['base_model.model.q.lora_A.default.weight', { dtype: 'F32' as const, shape: [0], bytes: new Uint8Array(0) }],
    ]);
    await expect(savePeftAdapter(out, { config: a.config, tensors: t })).rejects.toBeInstanceOf(AdapterSaveError);
  });

  it('throws the placeholder error when loading the ZeRO-3 adapter', async () => {
    await expect(loadPeftAdapter(ZERO3)).rejects.toBeInstanceOf(AdapterPlaceholderError);
  });

  it('says what is missing for a directory without config or weights', async () => {
    const dir = await scratch();
    await expect(loadPeftAdapter(dir)).rejects.toBeInstanceOf(AdapterConfigError);
    await cp(join(ADAPTER, 'adapter_config.json'), join(dir, 'adapter_config.json'));
    await expect(loadPeftAdapter(dir)).rejects.toBeInstanceOf(AdapterWeightsMissingError);
  });
});

describe('verifyAdapter', () => {
  it('verifies the PEFT adapter: 28 LoRA tensors, 15872 values (= the trainable count PEFT reports)', async () => {
    const r = await verifyAdapter(ADAPTER);
    expect(r.summary).toBe('28 LoRA tensors, 15872 values');
    expect(r.modules).toBe(14);
    expect(r.ranks).toEqual({ 8: 14 });
    expect(r.warnings).toEqual([]);
    const expected = JSON.parse(await readFile(fixture('peft-tiny-gemma/expected.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    expect(JSON.stringify(expected)).toContain('15872');
  });

  it('verifies the rsLoRA adapter', async () => {
    const r = await verifyAdapter(RSLORA);
    expect(r.summary).toBe('8 LoRA tensors, 1664 values');
    expect(r.ranks).toEqual({ 4: 4 });
  });

  it('reports the ZeRO-3 placeholder with the global_step dir and the recovery command', async () => {
    const err = await verifyAdapter(ZERO3).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdapterPlaceholderError);
    const e = err as AdapterPlaceholderError;
    expect(e.zeroDir).toBe(join(ZERO3, 'global_step5000'));
    expect(e.message).toContain('(40 bytes) holds no tensors');
    expect(e.message).toContain('DeepSpeed ZeRO');
    expect(e.message).toContain(join(ZERO3, 'global_step5000'));
    expect(e.message).toContain(`npx @vla-lora/zero-merge extract-adapter ${ZERO3} <out-dir>`);
  });

  async function mutate(edit: (a: Awaited<ReturnType<typeof loadPeftAdapter>>) => void): Promise<string> {
    const a = await loadPeftAdapter(ADAPTER);
    edit(a);
    const dir = join(await scratch(), 'mutated');
    await savePeftAdapter(dir, a);
    return dir;
  }
  const key = (layer: number, proj: string, ab: 'A' | 'B'): string =>
    `base_model.model.model.layers.${layer}.${['q_proj', 'k_proj', 'v_proj', 'o_proj'].includes(proj) ? 'self_attn' : 'mlp'}.${proj}.lora_${ab}.default.weight`;

  it('unpaired A/B', async () => {
    const dir = await mutate((a) => a.tensors.delete(key(1, 'k_proj', 'B')));
    const e = (await verifyAdapter(dir).catch((x: unknown) => x)) as AdapterUnpairedError;
    expect(e).toBeInstanceOf(AdapterUnpairedError);
    expect(e.modules).toEqual(['base_model.model.model.layers.1.self_attn.k_proj']);
  });

  it('rank disagreeing with r and with rank_pattern', async () => {
    const dir = await mutate((a) => {
      a.config.rank_pattern = { 'layers.0.self_attn.q_proj': 4 };
    });
    const e = (await verifyAdapter(dir).catch((x: unknown) => x)) as AdapterRankMismatchError;
    expect(e).toBeInstanceOf(AdapterRankMismatchError);
    expect(e.mismatches).toEqual([
      { module: 'base_model.model.model.layers.0.self_attn.q_proj', expected: 4, rankA: 8, rankB: 8 },
    ]);
    const dir2 = await mutate((a) => {
      a.config.r = 16;
    });
    await expect(verifyAdapter(dir2)).rejects.toBeInstanceOf(AdapterRankMismatchError);
  });

  it('NaN / Inf', async () => {
    const dir = await mutate((a) => {
      const k = key(0, 'up_proj', 'B');
      const v = toFloat32(a.tensors.get(k)!);
      v[3] = NaN;
      v[7] = -Infinity;
      a.tensors.set(k, fromFloat32(v, a.tensors.get(k)!.shape, 'F32'));
    });
    const e = (await verifyAdapter(dir).catch((x: unknown) => x)) as AdapterNonFiniteError;
    expect(e).toBeInstanceOf(AdapterNonFiniteError);
    expect(e.tensors).toEqual([{ name: 'base_model.model.model.layers.0.mlp.up_proj.lora_B.weight', nan: 1, inf: 1 }]);
  });

  it('target modules without weights', async () => {
    const dir = await mutate((a) => {
      for (const k of [...a.tensors.keys()]) if (k.includes('down_proj')) a.tensors.delete(k);
    });
    const e = (await verifyAdapter(dir).catch((x: unknown) => x)) as AdapterMissingTargetsError;
    expect(e).toBeInstanceOf(AdapterMissingTargetsError);
    expect(e.targets).toEqual(['down_proj']);
  });

  async function withConfig(edit: Record<string, unknown>, dropWeights?: (k: string) => boolean): Promise<string> {
    const a = await loadPeftAdapter(ADAPTER);
    Object.assign(a.config, edit);
    if (dropWeights) for (const k of [...a.tensors.keys()]) if (dropWeights(k)) a.tensors.delete(k);
    const dir = join(await scratch(), 'rules');
    await savePeftAdapter(dir, a);
    return dir;
  }
  const untargeted = async (dir: string): Promise<AdapterUntargetedError> => {
    const e = await verifyAdapter(dir).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterUntargetedError);
    return e as AdapterUntargetedError;
  };

  it('exclude_modules (list and regex): weights on an excluded module are an error, as PEFT would not wrap it', async () => {
    const q0 = 'model.layers.0.self_attn.q_proj';
    for (const ex of [[q0], ['layers.0.self_attn.q_proj'], String.raw`.*layers\.0\.self_attn\.q_proj`]) {
      const e = await untargeted(await withConfig({ exclude_modules: ex }));
      expect(e.modules).toEqual([{ module: q0, reason: 'excluded' }]);
    }
    // the consistent adapter (excluded module has no weights) verifies
    const ok = await verifyAdapter(await withConfig({ exclude_modules: [q0] }, (k) => k.includes(`${q0}.`)));
    expect(ok.modules).toBe(13);
  });

  it('layers_to_transform / layers_pattern: weights outside the chosen layers are an error', async () => {
    for (const extra of [{}, { layers_pattern: 'layers' }, { layers_pattern: ['h', 'layers'] }]) {
      const e = await untargeted(await withConfig({ layers_to_transform: [1], ...extra }));
      expect(e.modules).toHaveLength(7);
      expect(e.modules.every((m) => m.module.startsWith('model.layers.0.') && m.reason === 'layer-index')).toBe(true);
    }
    const ok = await verifyAdapter(await withConfig({ layers_to_transform: 1 }, (k) => k.includes('.layers.0.')));
    expect(ok.modules).toBe(7);
    // a layers_pattern that names no layer list keeps every module out
    const e = await untargeted(await withConfig({ layers_to_transform: [0, 1], layers_pattern: 'blocks' }));
    expect(e.modules).toHaveLength(14);
  });

  it('an invalid or untranslatable target_modules regex is a typed error, not "targets everything"', async () => {
    for (const [tm, reason] of [
      ['.*(q_proj', /does not compile/],
      ['(?i).*Q_PROJ', /inline flags/],
      [String.raw`.*\.q_proj\e`, /bad escape/],
      [String.raw`(?<=self_attn\.\w+)q_proj`, /fixed-width/],
    ] as const) {
      const e = await verifyAdapter(await withConfig({ target_modules: tm })).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AdapterConfigError);
      const cause = (e as AdapterConfigError).cause;
      expect(cause).toBeInstanceOf(PeftRegexError);
      expect((cause as PeftRegexError).field).toBe('target_modules');
      expect((cause as PeftRegexError).reason).toMatch(reason);
    }
    const e = await verifyAdapter(await withConfig({ exclude_modules: '[' })).catch((x: unknown) => x);
    expect((e as AdapterConfigError).cause).toBeInstanceOf(PeftRegexError);
    // a valid regex that matches only some modules: the others are untargeted
    const u = await untargeted(await withConfig({ target_modules: String.raw`.*\.(q|k|v|o)_proj` }));
    expect(u.modules.map((m) => m.module.split('.').at(-1))).toEqual(
      expect.arrayContaining(['up_proj', 'down_proj', 'gate_proj']),
    );
    // Python named groups are translated, not refused
    const ok = await verifyAdapter(await withConfig({ target_modules: String.raw`.*\.(?P<p>[a-z]+)_proj` }));
    expect(ok.modules).toBe(14);
  });

  it("LoraConfig's own rules: layers_pattern needs layers_to_transform; string targets take neither", async () => {
    for (const [edit, field] of [
      [{ layers_pattern: 'layers' }, 'layers_pattern'],
      [{ target_modules: '.*_proj', layers_to_transform: [0] }, 'layers_to_transform'],
      [{ layers_to_transform: 0, layers_pattern: 'layers' }, 'layers_pattern'], // 0 is falsy in PEFT's check
    ] as const) {
      const e = await verifyAdapter(await withConfig(edit)).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(AdapterConfigError);
      expect((e as AdapterConfigError).cause).toBeInstanceOf(PeftRuleError);
      expect(((e as AdapterConfigError).cause as PeftRuleError).field).toBe(field);
    }
  });

  it('lora_B all zero is a warning, not an error', async () => {
    const dir = await mutate((a) => {
      for (const [k, t] of a.tensors)
        if (k.includes('lora_B')) a.tensors.set(k, { ...t, bytes: new Uint8Array(t.bytes.byteLength) });
    });
    const r = await verifyAdapter(dir);
    expect(r.zeroBModules).toHaveLength(14);
    expect(r.warnings[0]).toMatch(/every lora_B \(14 modules\) is all zero: the adapter is untrained/);
  });

  it('zero-element tensors (ZeRO-3 partition placeholders saved as weights)', async () => {
    const dir = await copyAdapter(RSLORA);
    const { writeSafetensors } = await import('../safetensors/writer.js');
    await writeSafetensors(
      join(dir, 'adapter_model.safetensors'),
      [
        {
          name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight',
          dtype: 'BF16',
          shape: [0],
          data: new Uint8Array(0),
        },
        {
          name: 'base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight',
          dtype: 'BF16',
          shape: [0],
          data: new Uint8Array(0),
        },
      ],
      { metadata: { format: 'pt' } },
    );
    const e = (await verifyAdapter(dir).catch((x: unknown) => x)) as AdapterEmptyTensorError;
    expect(e).toBeInstanceOf(AdapterEmptyTensorError);
    expect(e.tensors).toHaveLength(2);
    expect(e.message).toContain('zero-merge extract-adapter');
    await rm(dir, { recursive: true });
  });
});

describe('hostile adapter_config.json', () => {
  it('deeply nested or oversized configs are AdapterConfigError, not a crash', async () => {
    const dir = await copyAdapter(RSLORA);
    await writeFile(join(dir, 'adapter_config.json'), `{"x":${'['.repeat(200000)}${']'.repeat(200000)}}`);
    await expect(loadPeftAdapter(dir)).rejects.toBeInstanceOf(AdapterConfigError);
    await writeFile(join(dir, 'adapter_config.json'), Buffer.alloc(17 * 1024 * 1024, 0x20));
    await expect(loadPeftAdapter(dir)).rejects.toThrow(/not one/);
    await writeFile(join(dir, 'adapter_config.json'), '{"peft_type": "PREFIX_TUNING", "r": 8, "lora_alpha": 16}');
    await expect(verifyAdapter(dir)).rejects.toThrow(/only LoRA adapters/);
  });
});
