import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern } from './pattern.js';
import { FreezePolicy, type FreezeRule } from './policy.js';

const seg = fc.constantFrom(
  'paligemma',
  'gemma_expert',
  'gemma',
  'paligemma_with_expert',
  'model',
  'layers',
  '0',
  '1',
  '17',
  'q_proj',
  'lora_A',
  'lora_B',
  'default',
  'weight',
  'base_layer',
  'mlp',
);
const path = fc.array(seg, { minLength: 1, maxLength: 10 });

describe('segment matching properties', () => {
  it('a one-segment literal matches exactly when that segment is present (never by substring)', () => {
    fc.assert(
      fc.property(path, seg, (parts, s) => {
        expect(compilePattern(s).matches(parts.join('.'))).toBe(parts.includes(s));
      }),
    );
  });

  it('any contiguous run of a path matches it; anchored at 0 only as a prefix', () => {
    fc.assert(
      fc.property(path, fc.nat(), fc.nat(), (parts, a, b) => {
        const i = a % parts.length;
        const j = i + 1 + (b % (parts.length - i));
        const run = parts.slice(i, j).join('.');
        const p = parts.join('.');
        expect(compilePattern(run).matches(p)).toBe(true);
        expect(compilePattern(`^${run}`).matches(p)).toBe(i === 0 || p.startsWith(`${run}.`) || p === run);
      }),
    );
  });

  it('no rule without a literal base_layer segment makes a base_layer path trainable', () => {
    const rule = fc.record({
      action: fc.constantFrom<'train' | 'freeze'>('train', 'freeze'),
      pattern: fc
        .array(
          fc.oneof(
            seg.filter((s) => s !== 'base_layer'),
            fc.constantFrom('*', '**', 'base_*', '*_layer'),
          ),
          { minLength: 1, maxLength: 4 },
        )
        .map((x) => x.join('.')),
    });
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 6 }), path, (rules: FreezeRule[], parts) => {
        const p = [...parts, 'base_layer', 'weight'].join('.');
        expect(new FreezePolicy(rules, { default: 'train' }).decide(p).trainable).toBe(false);
      }),
    );
  });
});
