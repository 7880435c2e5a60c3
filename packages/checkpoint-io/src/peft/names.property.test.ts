import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { insertAdapterName, parseLoraKey, removeAdapterName } from './names.js';

const segment = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);
const modulePath = fc
  .array(fc.oneof(segment, fc.nat(40).map(String)), { minLength: 1, maxLength: 6 })
  .map((s) => `base_model.model.${s.join('.')}`);
const suffix = fc.constantFrom(
  'lora_A.weight',
  'lora_B.weight',
  'lora_B.bias',
  'lora_embedding_A',
  'lora_embedding_B',
  'lora_magnitude_vector',
);
const adapterName = segment.filter((s) => !s.startsWith('lora_'));

describe('PEFT key naming properties', () => {
  it('removeAdapterName(insertAdapterName(k)) === k for every LoRA key shape', () => {
    fc.assert(
      fc.property(modulePath, suffix, adapterName, (m, sfx, name) => {
        fc.pre(!m.includes('lora_')); // module names containing "lora_" are PEFT's documented ambiguity
        const disk = `${m}.${sfx}`;
        const mem = insertAdapterName(disk, name);
        expect(mem).toContain(`.${name}`);
        expect(removeAdapterName(mem, name)).toBe(disk);
        expect(parseLoraKey(disk)?.module).toBe(m);
      }),
      { numRuns: 2000 },
    );
  });
});
