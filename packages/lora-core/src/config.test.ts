import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loraConfigFromPeft, loraConfigToPeft, makeLoraConfig, loraScaling } from './config.js';
import { LoraConfigError } from './errors.js';

const fixture = (p: string): string =>
  fileURLToPath(new URL(`../../../fixtures/peft-tiny-gemma/${p}`, import.meta.url));
const readJson = (p: string): Record<string, unknown> =>
  JSON.parse(readFileSync(fixture(p), 'utf8')) as Record<string, unknown>;

describe('LoraConfig ↔ PEFT adapter_config.json', () => {
  it("parses PEFT 0.21's own adapter_config.json", () => {
    const { config, extra } = loraConfigFromPeft(readJson('adapter/adapter_config.json'));
    expect(config.r).toBe(8);
    expect(config.loraAlpha).toBe(16);
    expect([...(config.targetModules as string[])].sort()).toEqual([
      'down_proj',
      'gate_proj',
      'k_proj',
      'o_proj',
      'q_proj',
      'up_proj',
      'v_proj',
    ]);
    expect(config.useRslora).toBe(false);
    expect(config.initLoraWeights).toBe(true);
    expect(extra['peft_version']).toBe('0.21.0');
    expect(extra['task_type']).toBe('CAUSAL_LM');
    const rs = loraConfigFromPeft(readJson('rslora/adapter_config.json')).config;
    expect(rs.useRslora).toBe(true);
    expect(loraScaling(rs.loraAlpha, rs.r, rs.useRslora)).toBe(4); // 8 / sqrt(4)
  });

  it('round-trips the fixture config field for field (values and key set)', () => {
    const orig = readJson('adapter/adapter_config.json');
    const { config, extra } = loraConfigFromPeft(orig);
    const back = loraConfigToPeft(config, extra);
    expect(back).toEqual(orig);
    expect(Object.keys(back)).toEqual(Object.keys(orig)); // sorted like PEFT's json.dumps(sort_keys=True)
  });

  it('emits a complete PEFT config from a fresh LoraConfig', () => {
    const out = loraConfigToPeft(
      makeLoraConfig({ targetModules: ['q_proj'], r: 16, loraAlpha: 16, initLoraWeights: 'openpi' }),
    );
    expect(out).toMatchObject({
      peft_type: 'LORA',
      r: 16,
      lora_alpha: 16,
      target_modules: ['q_proj'],
      bias: 'none',
      use_dora: false,
      init_lora_weights: false,
    });
  });

  it('refuses what it would compute differently from PEFT, naming the field', () => {
    const base = readJson('adapter/adapter_config.json');
    expect(() => loraConfigFromPeft({ ...base, use_dora: true })).toThrow(/use_dora.*DoRA/);
    expect(() => loraConfigFromPeft({ ...base, fan_in_fan_out: true })).toThrow(/fan_in_fan_out/);
    expect(() => loraConfigFromPeft({ ...base, lora_bias: true })).toThrow(/lora_bias/);
    expect(() => loraConfigFromPeft({ ...base, peft_type: 'IA3' })).toThrow(/only LORA/);
    expect(() => loraConfigFromPeft({ ...base, bias: 'all' })).toThrow(/bias='all'/);
    expect(() => loraConfigFromPeft({ ...base, init_lora_weights: 'pissa' })).toThrow(/init_lora_weights/);
    expect(() => loraConfigFromPeft({ ...base, target_modules: null })).toThrow(/target_modules/);
  });

  it('validates like PEFT __post_init__', () => {
    expect(() => makeLoraConfig({ targetModules: 'q_proj', layersToTransform: [0] })).toThrow(LoraConfigError);
    expect(() => makeLoraConfig({ targetModules: ['q_proj'], layersPattern: 'layers' })).toThrow(/layers_to_transform/);
    expect(() => makeLoraConfig({ targetModules: [], r: 8 })).toThrow(/empty/);
    expect(() => makeLoraConfig({ targetModules: ['q'], r: 0 })).toThrow(/positive/);
    expect(() => makeLoraConfig({ targetModules: ['q'], loraDropout: 1 })).toThrow(/dropout/);
    expect(() => makeLoraConfig({ targetModules: '(' })).toThrow(/regular expression/);
    expect(makeLoraConfig({ targetModules: ['q'] })).toMatchObject({
      r: 8,
      loraAlpha: 8,
      loraDropout: 0,
      bias: 'none',
      initLoraWeights: true,
    });
  });
});
