import { describe, expect, it } from 'vitest';
import { InvalidPatternError } from './errors.js';
import { parseRules } from './parse-rules.js';
import { FreezePolicy } from './policy.js';

describe('parseRules', () => {
  it('reads +/- and train:/freeze: forms, comments and optional markers', () => {
    const rules = parseRules(`
      # LoRA and heads
      +lora_A
      train: lora_B
      -gemma_expert.**.lora_B   # except the expert's B
      freeze:^action_out_proj ?
    `);
    expect(rules).toEqual([
      { action: 'train', pattern: 'lora_A' },
      { action: 'train', pattern: 'lora_B' },
      { action: 'freeze', pattern: 'gemma_expert.**.lora_B' },
      { action: 'freeze', pattern: '^action_out_proj', optional: true },
    ]);
    const p = new FreezePolicy(rules);
    expect(
      p.decide('paligemma_with_expert.gemma_expert.model.layers.0.mlp.up_proj.lora_B.default.weight').trainable,
    ).toBe(false);
    expect(
      p.decide('paligemma_with_expert.paligemma.model.language_model.layers.0.mlp.up_proj.lora_B.default.weight')
        .trainable,
    ).toBe(true);
    expect(parseRules(['+a', '-b'])).toHaveLength(2);
  });
  it('rejects lines without an action and malformed patterns', () => {
    expect(() => parseRules('lora_A')).toThrow(InvalidPatternError);
    expect(() => parseRules('+a..b')).toThrow(InvalidPatternError);
  });
});
