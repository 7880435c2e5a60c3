import { describe, expect, it } from 'vitest';
import { InvalidPatternError } from './errors.js';
import { compilePattern } from './pattern.js';

const PG = 'paligemma_with_expert.paligemma.model.language_model.layers.0.self_attn.q_proj.lora_A.default.weight';
const EX = 'paligemma_with_expert.gemma_expert.model.layers.0.self_attn.q_proj.lora_A.default.weight';

describe('segment patterns', () => {
  it('match whole segments, never substrings (paligemma never matches gemma_expert)', () => {
    const p = compilePattern('paligemma');
    expect(p.matches(PG)).toBe(true);
    expect(p.matches(EX)).toBe(false);
    // the substring test that caused the field-notes bug says otherwise:
    expect(EX.includes('gemma')).toBe(true);
    expect(compilePattern('gemma').matches(EX)).toBe(false);
    expect(compilePattern('gemma_expert').matches(PG)).toBe(false);
    expect(compilePattern('paligemma_with').matches(PG)).toBe(false);
  });

  it('supports multi-segment runs, one-segment *, any-depth ** and globs inside a segment', () => {
    expect(compilePattern('q_proj.lora_A').matches(PG)).toBe(true);
    expect(compilePattern('q_proj.lora_B').matches(PG)).toBe(false);
    expect(compilePattern('layers.*.self_attn').matches(PG)).toBe(true);
    expect(compilePattern('layers.*.q_proj').matches(PG)).toBe(false);
    expect(compilePattern('language_model.**.lora_A').matches(PG)).toBe(true);
    expect(compilePattern('lora_*').matches(PG)).toBe(true);
    expect(compilePattern('?_proj').matches(PG)).toBe(true);
    expect(compilePattern('lora_?').matches('a.lora_AB.w')).toBe(false);
    expect(compilePattern('**').matches('anything.at.all')).toBe(true);
  });

  it('anchors with ^ and $', () => {
    expect(compilePattern('^state_proj').matches('state_proj.weight')).toBe(true);
    expect(compilePattern('^state_proj').matches('x.state_proj.weight')).toBe(false);
    expect(compilePattern('weight$').matches('state_proj.weight')).toBe(true);
    expect(compilePattern('state_proj$').matches('state_proj.weight')).toBe(false);
    expect(compilePattern('^state_proj.weight$').matches('state_proj.weight')).toBe(true);
  });

  it('treats regex characters literally', () => {
    expect(compilePattern('a+b').matches('x.a+b.y')).toBe(true);
    expect(compilePattern('a+b').matches('x.aab.y')).toBe(false);
  });

  it('rejects malformed patterns with a typed error', () => {
    for (const bad of ['', 'a..b', '.a', 'a.', 'lora_**', '^$'])
      expect(() => compilePattern(bad), bad).toThrow(InvalidPatternError);
  });
});
