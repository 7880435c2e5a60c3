import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from './errors.js';
import { openpiToPeftLoraPath, peftToOpenpiLoraPath } from './lora-naming.js';
import { getPi0Config } from './pi0-config.js';
import { pi0ParamSpecs } from './pi0-specs.js';

describe('PEFT <-> openpi LoRALinear names', () => {
  it('maps base_layer/lora_A/lora_B to base/lora_a/lora_b and back, for every pi0 LoRA spec', () => {
    const q = 'paligemma_with_expert.gemma_expert.model.layers.3.self_attn.q_proj';
    expect(peftToOpenpiLoraPath(`${q}.lora_A.default.weight`)).toBe(`${q}.lora_a`);
    expect(peftToOpenpiLoraPath(`${q}.lora_B.default.weight`)).toBe(`${q}.lora_b`);
    expect(peftToOpenpiLoraPath(`${q}.base_layer.weight`)).toBe(`${q}.base.weight`);
    expect(peftToOpenpiLoraPath('action_in_proj.weight')).toBe('action_in_proj.weight');
    const specs = pi0ParamSpecs(getPi0Config('pi0_tiny_lora'));
    const mapped = specs.map((s) => peftToOpenpiLoraPath(s.path));
    expect(new Set(mapped).size).toBe(specs.length);
    expect(mapped.map((p) => openpiToPeftLoraPath(p))).toEqual(specs.map((s) => s.path));
  });
  it('refuses malformed PEFT LoRA paths', () => {
    expect(() => peftToOpenpiLoraPath('a.lora_A.weight')).toThrow(InvalidConfigError);
  });
});
