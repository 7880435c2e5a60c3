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
    // openpi: LoRA fine-tuning "> 22.5 GB" (fits a 24 GB card at batch 32 with every block rematerialised).
    const gib = p.bill.perDeviceBytes / 1024 ** 3;
    expect(gib).toBeGreaterThan(16);
    expect(gib).toBeLessThan(30);
    expect(p.bill.rows.map((r) => r.item)).toEqual(['weights', 'gradients', 'optimizer', 'activations', 'recompute']);
    expect(p.text).toContain('> 22.5 GB');
  });
  it("pi0_libero (openpi's full fine-tuning: float32 weights, AdamW, EMA) bills 60-100 GiB beside openpi's > 70 GB", () => {
    const p = planRun(getTrainConfig('pi0_libero'));
    // Everything trains except the expert's lm_head, which pi0 never calls.
    expect(p.report.total - p.report.trainable).toBe(263_323_648);
    const gib = p.bill.perDeviceBytes / 1024 ** 3;
    expect(gib).toBeGreaterThan(60);
    expect(gib).toBeLessThan(100);
    expect(p.bill.rows.find((r) => r.item === 'ema')?.bytesPerDevice).toBe(p.report.trainable * 4);
    expect(p.text).toContain('> 70 GB');
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
