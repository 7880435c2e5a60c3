import { describe, expect, it } from 'vitest';
import { compilePattern, containsModule, nameFilter } from './filter.js';
import { ZeroMergeUsageError } from './errors.js';

describe('name patterns', () => {
  it('globs match whole dotted names, * within one segment, ** across segments', () => {
    const f = compilePattern('base_model.model.model.layers.*.self_attn.q_proj.lora_A.default.weight');
    expect(f('base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight')).toBe(true);
    expect(f('base_model.model.model.layers.0.1.self_attn.q_proj.lora_A.default.weight')).toBe(false);
    expect(compilePattern('**.lora_*.**')('a.b.lora_B.default.weight')).toBe(true);
    expect(compilePattern('**.lora_*.**')('a.b.q_proj.base_layer.weight')).toBe(false);
    // no substring matches
    expect(compilePattern('lm_head')('lm_head.weight')).toBe(false);
    expect(compilePattern('lm_head.*')('lm_head_extra.weight')).toBe(false);
  });

  it('re: gives a searched regex', () => {
    expect(compilePattern('re:lora_[AB]')('x.lora_B.default.weight')).toBe(true);
    expect(() => compilePattern('re:(')).toThrow(ZeroMergeUsageError);
  });

  it('include then exclude', () => {
    const f = nameFilter(['**.lora_*.**', 'regression_head.**'], ['regression_head.out.*']);
    expect(f('m.q_proj.lora_A.default.weight')).toBe(true);
    expect(f('regression_head.projections.0.0.weight')).toBe(true);
    expect(f('regression_head.out.bias')).toBe(false);
    expect(f('m.q_proj.base_layer.weight')).toBe(false);
    expect(nameFilter()('anything')).toBe(true);
  });

  it('containsModule matches contiguous path segments only', () => {
    expect(containsModule('regression_head.out.weight', 'regression_head')).toBe(true);
    expect(containsModule('base_model.model.score.weight', 'score')).toBe(true);
    expect(containsModule('base_model.model.scorer.weight', 'score')).toBe(false);
    expect(containsModule('base_model.model.gemma_expert.x', 'paligemma')).toBe(false);
    expect(containsModule('a.heads.3.out.weight', 'heads.*.out')).toBe(true);
  });
});
