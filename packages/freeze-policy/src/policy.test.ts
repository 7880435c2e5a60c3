import { gemmaCausalLmSpecs, getPi0Config, pi0ParamSpecs, type HfGemmaConfig } from '@vla-lora/gemma-config';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { NoParametersError, NothingTrainableError, RuleMatchedNothingError } from './errors.js';
import { FreezePolicy, freeze, train } from './policy.js';
import {
  fullFinetunePolicy,
  loraPolicy,
  pi0FullFinetunePolicy,
  pi0FullPaligemmaExpertLoraPolicy,
  pi0LoraPolicy,
} from './presets.js';
import { formatFixedLikePython, peftTrainableLine } from './python-format.js';
import { freezeReport } from './report.js';

const hf = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../fixtures/peft-tiny-gemma/base/config.json', import.meta.url)), 'utf8'),
) as HfGemmaConfig;
const adapterConfig = JSON.parse(
  readFileSync(
    fileURLToPath(new URL('../../../fixtures/peft-tiny-gemma/adapter/adapter_config.json', import.meta.url)),
    'utf8',
  ),
) as {
  r: number;
  target_modules: Array<'q_proj' | 'k_proj' | 'v_proj' | 'o_proj' | 'gate_proj' | 'up_proj' | 'down_proj'>;
};
const peftTiny = gemmaCausalLmSpecs(hf, {
  prefix: 'base_model.model.',
  lora: { rank: adapterConfig.r, targets: adapterConfig.target_modules },
});
const pi0Lora = pi0ParamSpecs(getPi0Config('pi0_lora'));

describe('FreezePolicy precedence and the LoRA base-weight guard', () => {
  it('last matching rule wins; unmatched paths get the default', () => {
    const a = new FreezePolicy([train('layers'), freeze('layers.1')]);
    const b = new FreezePolicy([freeze('layers.1'), train('layers')]);
    const p = 'model.layers.1.mlp.up_proj.weight';
    expect(a.decide(p).trainable).toBe(false);
    expect(b.decide(p).trainable).toBe(true);
    expect(a.decide('model.layers.0.mlp.up_proj.weight')).toMatchObject({ trainable: true, ruleIndex: 0 });
    expect(a.decide('model.norm.weight')).toMatchObject({ trainable: false, ruleIndex: -1, reason: 'default: freeze' });
    expect(new FreezePolicy([freeze('norm')], { default: 'train' }).decide('model.embed_tokens.weight').trainable).toBe(
      true,
    );
  });

  it('bug: base_layer accidentally unfrozen — broad train rules never unfreeze base_layer; only a rule naming it does', () => {
    const base = 'base_model.model.model.layers.0.self_attn.q_proj.base_layer.weight';
    for (const rule of ['**', 'model', 'q_proj', 'self_attn.q_proj', 'layers.*.self_attn.*']) {
      expect(new FreezePolicy([train(rule)]).decide(base), rule).toMatchObject({ trainable: false, ruleIndex: -1 });
    }
    expect(new FreezePolicy([train('q_proj.base_layer')]).decide(base).trainable).toBe(true);
    expect(new FreezePolicy([train('base_layer'), freeze('layers.0.**.base_layer')]).decide(base).trainable).toBe(
      false,
    );
    const plan = new FreezePolicy([train('**')]).plan(peftTiny);
    expect(plan.entries.filter((e) => e.path.includes('.base_layer.')).every((e) => !e.trainable)).toBe(true);
    expect(plan.entries.filter((e) => e.path.includes('.base_layer.')).length).toBe(14);
  });

  it('bug: "paligemma" in name matched gemma_expert — a paligemma rule touches no expert parameter', () => {
    const plan = new FreezePolicy([train('paligemma')], { strict: true }).plan(pi0Lora);
    const expertTrainable = plan.entries.filter(
      (e) => e.path.startsWith('paligemma_with_expert.gemma_expert.') && e.trainable,
    );
    expect(expertTrainable).toEqual([]);
    // substring matching (the bug) would have picked up every expert parameter:
    expect(
      pi0Lora.filter((s) => s.path.includes('paligemma') && s.path.includes('gemma_expert')).length,
    ).toBeGreaterThan(0);
    const paligemmaTrainable = plan.entries.filter((e) => e.trainable).length;
    expect(paligemmaTrainable).toBe(
      pi0Lora.filter((s) => s.path.startsWith('paligemma_with_expert.paligemma.') && !s.path.includes('.base_layer.'))
        .length,
    );
  });

  it('bug: everything frozen — the plan refuses to succeed', () => {
    expect(() => new FreezePolicy([freeze('**')]).plan(peftTiny)).toThrow(NothingTrainableError);
    expect(() => new FreezePolicy([]).plan(peftTiny)).toThrow(NothingTrainableError);
    const plan = new FreezePolicy([freeze('**')], { requireTrainable: false }).plan(peftTiny);
    expect(plan.trainable).toBe(0);
    // LoRA rules on a model where LoRA was never injected match nothing: loud, not silent.
    expect(() => loraPolicy().plan(gemmaCausalLmSpecs(hf))).toThrow(RuleMatchedNothingError);
  });

  it('strict mode names rules that matched nothing (typos), optional rules are exempt', () => {
    expect(() => new FreezePolicy([train('lora_A'), train('lora_a')]).plan(peftTiny)).toThrow(/"lora_a"/);
    const plan = new FreezePolicy([train('lora_A'), train('lora_a')], { strict: false }).plan(peftTiny);
    expect(plan.unmatchedRules).toEqual(['lora_a']);
    expect(fullFinetunePolicy().plan(gemmaCausalLmSpecs(hf)).trainable).toBe(86_336);
  });
});

describe('reports and PEFT counts', () => {
  it('tiny Gemma fixture + adapter config: PEFT line "trainable params: 15,872 || all params: 102,208 || trainable%: 15.5291"', () => {
    const plan = loraPolicy().plan(peftTiny);
    const report = freezeReport(plan);
    expect(report.peftLine).toBe('trainable params: 15,872 || all params: 102,208 || trainable%: 15.5291');
    expect(report.loraTensors).toBe(28);
    expect(report.lines[0]).toBe('LoRA detected: 28 LoRA tensors, 15,872 parameters');
    const layers = report.groups.find((g) => g.module === 'base_model.model.model.layers');
    expect(layers).toMatchObject({
      tensors: 2 * (7 * 3 + 2),
      trainableParams: 15_872,
      status: 'partial',
      loraTensors: 28,
    });
    expect(report.groups.find((g) => g.module === 'base_model.model.model.embed_tokens')).toMatchObject({
      status: 'frozen',
      params: 16_384,
    });
  });

  it('pi0 LoRA preset: LoRA + five heads = 36,720,672 of 3,534,844,688, grouped by module', () => {
    const report = freezeReport(pi0LoraPolicy().plan(pi0Lora));
    expect(report.trainable).toBe(36_720_672);
    expect(report.total).toBe(3_534_844_688);
    expect(report.loraTensors).toBe(504);
    expect(report.peftLine).toBe('trainable params: 36,720,672 || all params: 3,534,844,688 || trainable%: 1.0388');
    const g = Object.fromEntries(report.groups.map((x) => [x.module, x]));
    expect(g['paligemma_with_expert.paligemma.model.language_model.layers']).toMatchObject({
      trainableParams: 19_611_648,
      status: 'partial',
    });
    expect(g['paligemma_with_expert.gemma_expert.model.layers']).toMatchObject({
      trainableParams: 13_860_864,
      status: 'partial',
    });
    expect(g['paligemma_with_expert.paligemma.model.vision_tower.vision_model.encoder.layers']).toMatchObject({
      status: 'frozen',
    });
    expect(g['paligemma_with_expert.gemma_expert.lm_head']).toMatchObject({
      status: 'frozen',
      params: 263_323_648,
      decidedBy: { 'default: freeze': 1 },
    });
    expect(g['paligemma_with_expert.gemma_expert.model.layers']?.decidedBy).toEqual({
      'train "lora_A" (LoRA)': 126,
      'train "lora_B" (LoRA)': 126,
      'LoRA base weight: frozen unless a rule names base_layer': 126,
      'default: freeze': 36,
    });
    for (const h of ['action_in_proj', 'action_out_proj', 'state_proj', 'action_time_mlp_in', 'action_time_mlp_out'])
      expect(g[h]?.status).toBe('trainable');
  });

  it('full PaliGemma + expert LoRA: 2,940,444,432; pi0 full fine-tuning keeps the unused expert lm_head frozen', () => {
    const specs = pi0ParamSpecs(getPi0Config('pi0_expert_lora'));
    const plan = pi0FullPaligemmaExpertLoraPolicy().plan(specs);
    expect(plan.trainable).toBe(2_940_444_432);
    expect(plan.total).toBe(3_515_233_040);
    const full = pi0FullFinetunePolicy().plan(pi0ParamSpecs(getPi0Config('pi0')));
    expect(full.trainable).toBe(3_501_372_176 - 263_323_648);
    const fullLora = pi0FullFinetunePolicy().plan(pi0Lora);
    expect(fullLora.trainable).toBe(3_534_844_688 - 263_323_648);
  });

  it('formats like Python: thousands separators and round-half-even on exact ties', () => {
    expect(peftTrainableLine(1, 3)).toBe('trainable params: 1 || all params: 3 || trainable%: 33.3333');
    expect(formatFixedLikePython(0.03125, 4)).toBe('0.0312');
    expect(formatFixedLikePython(0.09375, 4)).toBe('0.0938');
    expect(formatFixedLikePython(2.5, 0)).toBe('2');
    expect(formatFixedLikePython(100, 4)).toBe('100.0000');
    expect(formatFixedLikePython(-1.5, 0)).toBe('-2');
    expect(formatFixedLikePython(1e-7, 4)).toBe('0.0000');
    expect(formatFixedLikePython(0.1, 20)).toBe('0.10000000000000000555');
    expect(() => freezeReport({ entries: [], total: 0, trainable: 0, unmatchedRules: [] })).toThrow(NoParametersError);
  });
});
