import { describe, expect, it } from 'vitest';
import { Pi0ConfigError } from '../errors.js';
import { isFamilyRecipe, planReport } from './report.js';

describe('planReport (vla-train plan)', () => {
  it('a pi0 config: planRun as text and as the JSON report, --set overrides applied', () => {
    const r = planReport('pi0_libero_lora');
    expect(r.kind).toBe('pi0');
    expect(r.text).toContain('trainable params: 36,720,672 || all params: 3,534,844,688 || trainable%: 1.0388');
    expect(r.json).toMatchObject({
      config: 'pi0_libero_lora',
      trainable: 36_720_672,
      total: 3_534_844_688,
      loraTensors: 504,
    });
    expect(Object.keys(r.json)).toEqual([
      'config',
      'pi0',
      'trainable',
      'total',
      'trainablePercent',
      'loraTensors',
      'loraParams',
      'memory',
      'tokensPerExample',
    ]);
    const small = planReport('pi0_libero_lora', ['data.batchSize=4']);
    expect(small.json.memory.perDeviceBytes).toBeLessThan(r.json.memory.perDeviceBytes);
  });

  it("a family recipe: PEFT's line, the base count, the LoRA tensors, the bill and the graph preflight", () => {
    expect(isFamilyRecipe('openvla_7b_lora')).toBe(true);
    expect(isFamilyRecipe('pi0_libero_lora')).toBe(false);
    const o = planReport('openvla_7b_lora');
    expect(o.kind).toBe('family');
    expect(o.text).toContain('trainable params: 110,828,288 || all params: 7,652,065,472 || trainable%: 1.4483');
    expect(o.text).toContain('base params: 7,541,237,184');
    expect(o.text).toMatch(/LoRA tensors: 878/);
    expect(o.text).toMatch(/~72 GB/);
    expect(o.text).toMatch(/WARNING: 26 never will/);
    const q = planReport('qwen2_5_vl_7b_lora', ['ignored=1']);
    expect(q.json).toMatchObject({
      config: 'qwen2_5_vl_7b_lora',
      trainable: 20_185_088,
      total: 8_312_351_744,
      baseParams: 8_292_166_656,
      loraTensors: 392,
    });
    if (q.kind !== 'family') throw new Error('expected a family report');
    expect(q.json.preflight.disconnected).toEqual([]);
    expect(q.json.peftConfig.peft_type).toBe('LORA');
  });

  it('an unknown name is refused with the known configs', () => {
    expect(() => planReport('pi0_nope')).toThrow(Pi0ConfigError);
    expect(() => planReport('pi0_nope')).toThrow(/known configs: pi0_libero, pi0_libero_lora, /);
  });
});
