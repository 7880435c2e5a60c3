import { describe, expect, it } from 'vitest';
import { getTrainConfig } from '../config/index.js';
import { planRun } from './plan.js';

describe('planRun', () => {
  it('pi0_libero_lora: the field-notes numbers (36,720,672 of 3,534,844,688; 504 LoRA tensors)', () => {
    const p = planRun(getTrainConfig('pi0_libero_lora'));
    expect(p.report.trainable).toBe(36_720_672);
    expect(p.report.total).toBe(3_534_844_688);
    expect(p.report.loraTensors).toBe(504);
    expect(p.text).toContain('trainable params: 36,720,672 || all params: 3,534,844,688 || trainable%: 1.0388');
    expect(p.bill.perDeviceBytes).toBeGreaterThan(7 * 1024 ** 3);
  });
  it('full PaliGemma + expert LoRA is ~91% trainable', () => {
    const p = planRun(getTrainConfig('pi0_libero_expert_lora'));
    expect(p.report.trainablePercent).toBeGreaterThan(80);
  });
  it('the tiny demo config is small', () => {
    const p = planRun(getTrainConfig('pi0_libero_lora_tiny'));
    expect(p.report.total).toBeLessThan(5_000_000);
    expect(p.report.loraTensors).toBeGreaterThan(0);
  });
});
