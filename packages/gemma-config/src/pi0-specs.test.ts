import { describe, expect, it } from 'vitest';
import { countParams, sumParams } from './accounting.js';
import { UnknownVariantError, InvalidConfigError } from './errors.js';
import { getGemmaVariant, GEMMA_VARIANT_NAMES } from './gemma-variants.js';
import type { ParamSpec } from './param-spec.js';
import { isLoraPath, isUnder } from './path-segments.js';
import { getPi0Config, pi0SequenceLengths } from './pi0-config.js';
import { PI0_HEADS, PI0_PATHS, pi0ParamSpecs } from './pi0-specs.js';

const under = (prefix: string) => (s: ParamSpec) => isUnder(s.path, prefix);
const isHead = (s: ParamSpec) => PI0_HEADS.some((h) => isUnder(s.path, h));

describe('openpi Gemma variants', () => {
  it('match openpi gemma.get_config', () => {
    expect(getGemmaVariant('gemma_2b')).toMatchObject({
      width: 2048,
      depth: 18,
      mlpDim: 16_384,
      numHeads: 8,
      numKvHeads: 1,
      headDim: 256,
    });
    expect(getGemmaVariant('gemma_300m')).toMatchObject({
      width: 1024,
      depth: 18,
      mlpDim: 4096,
      numHeads: 8,
      numKvHeads: 1,
      headDim: 256,
    });
    expect(getGemmaVariant('dummy')).toMatchObject({
      width: 64,
      depth: 4,
      mlpDim: 128,
      numHeads: 8,
      numKvHeads: 1,
      headDim: 16,
    });
    expect(getGemmaVariant('gemma_2b_lora').lora).toEqual({ rank: 16, alpha: 16, targets: ['attn', 'ffn'] });
    expect(getGemmaVariant('gemma_300m_lora').lora).toEqual({ rank: 32, alpha: 32, targets: ['attn', 'ffn'] });
    expect(GEMMA_VARIANT_NAMES).toEqual(
      expect.arrayContaining(['dummy', 'gemma_300m', 'gemma_2b', 'gemma_2b_lora', 'gemma_300m_lora']),
    );
  });
  it('returns copies and rejects unknown names', () => {
    getGemmaVariant('gemma_2b').width = 1;
    expect(getGemmaVariant('gemma_2b').width).toBe(2048);
    expect(() => getGemmaVariant('gemma_7b')).toThrow(UnknownVariantError);
  });
});

describe('pi0 parameter specs (openpi PyTorch layout), computed without allocating', () => {
  const lora = pi0ParamSpecs(getPi0Config('pi0_lora'));

  it('pi0 with gemma_2b_lora + gemma_300m_lora: 3,534,844,688 total, 36,720,672 trainable (1.04%)', () => {
    const trainable = (s: ParamSpec) => isLoraPath(s.path) || isHead(s);
    const c = countParams(lora, trainable);
    expect(c.total).toBe(3_534_844_688);
    expect(c.trainable).toBe(36_720_672);
    expect(c.trainablePercent.toFixed(2)).toBe('1.04');
    expect(c.loraTensors).toBe(504);
    expect(sumParams(lora, (s) => isLoraPath(s.path) && isUnder(s.path, PI0_PATHS.paligemma))).toBe(19_611_648);
    expect(sumParams(lora, (s) => isLoraPath(s.path) && isUnder(s.path, PI0_PATHS.expert))).toBe(13_860_864);
    expect(sumParams(lora, isHead)).toBe(3_248_160);
  });

  it('pi0 without LoRA: 3,501,372,176, broken down by module', () => {
    const base = pi0ParamSpecs(getPi0Config('pi0'));
    expect(countParams(base, () => true).total).toBe(3_501_372_176);
    expect(sumParams(base, under(PI0_PATHS.visionTower))).toBe(412_442_352);
    expect(sumParams(base, under(PI0_PATHS.projector))).toBe(1152 * 2048 + 2048);
    expect(sumParams(base, under(PI0_PATHS.languageModel))).toBe(2_508_531_712);
    expect(sumParams(base, under(PI0_PATHS.expertModel))).toBe(311_464_960);
    expect(sumParams(base, under(PI0_PATHS.expertLmHead))).toBe(257_152 * 1024);
  });

  it('full PaliGemma + expert LoRA: 2.94B trainable with the expert frozen; ~3.2B (91%) when its unused lm_head is left trainable', () => {
    const specs = pi0ParamSpecs(getPi0Config('pi0_expert_lora'));
    const frozenExpert = (s: ParamSpec) => isLoraPath(s.path) || isHead(s) || isUnder(s.path, PI0_PATHS.paligemma);
    const c = countParams(specs, frozenExpert);
    expect(c.total).toBe(3_515_233_040);
    expect(c.trainable).toBe(2_940_444_432);
    const leaky = countParams(specs, (s) => frozenExpert(s) || isUnder(s.path, PI0_PATHS.expertLmHead));
    expect(leaky.trainable).toBe(3_203_768_080);
    expect(leaky.trainablePercent.toFixed(0)).toBe('91');
  });

  it('uses openpi / transformers names and PyTorch [out, in] layouts', () => {
    const byPath = new Map(lora.map((s) => [s.path, s]));
    const want: Array<[string, number[]]> = [
      ['paligemma_with_expert.paligemma.model.language_model.embed_tokens.weight', [257_152, 2048]],
      [
        'paligemma_with_expert.paligemma.model.language_model.layers.0.self_attn.q_proj.base_layer.weight',
        [2048, 2048],
      ],
      [
        'paligemma_with_expert.paligemma.model.language_model.layers.0.self_attn.q_proj.lora_A.default.weight',
        [16, 2048],
      ],
      [
        'paligemma_with_expert.paligemma.model.language_model.layers.0.self_attn.k_proj.lora_B.default.weight',
        [256, 16],
      ],
      [
        'paligemma_with_expert.paligemma.model.language_model.layers.17.mlp.down_proj.lora_A.default.weight',
        [16, 16_384],
      ],
      ['paligemma_with_expert.gemma_expert.model.layers.0.self_attn.o_proj.lora_A.default.weight', [32, 2048]],
      ['paligemma_with_expert.gemma_expert.model.layers.0.self_attn.o_proj.lora_B.default.weight', [1024, 32]],
      ['paligemma_with_expert.gemma_expert.lm_head.weight', [257_152, 1024]],
      [
        'paligemma_with_expert.paligemma.model.vision_tower.vision_model.embeddings.patch_embedding.weight',
        [1152, 3, 14, 14],
      ],
      [
        'paligemma_with_expert.paligemma.model.vision_tower.vision_model.embeddings.position_embedding.weight',
        [256, 1152],
      ],
      [
        'paligemma_with_expert.paligemma.model.vision_tower.vision_model.encoder.layers.26.mlp.fc1.weight',
        [4304, 1152],
      ],
      ['paligemma_with_expert.paligemma.model.multi_modal_projector.linear.weight', [2048, 1152]],
      ['paligemma_with_expert.paligemma.model.multi_modal_projector.linear.bias', [2048]],
      ['action_in_proj.weight', [1024, 32]],
      ['action_out_proj.weight', [32, 1024]],
      ['state_proj.weight', [1024, 32]],
      ['action_time_mlp_in.weight', [1024, 2048]],
      ['action_time_mlp_out.bias', [1024]],
    ];
    for (const [path, shape] of want) expect(byPath.get(path)?.shape, path).toEqual(shape);
    expect([...byPath.keys()].some((p) => p.startsWith('paligemma_with_expert.gemma_expert.model.embed_tokens'))).toBe(
      false,
    );
    expect(byPath.get('paligemma_with_expert.paligemma.model.language_model.embed_tokens.weight')?.aliases).toEqual([
      'paligemma_with_expert.paligemma.lm_head.weight',
    ]);
    expect([...byPath.keys()].some((p) => p.includes('vision_model.head'))).toBe(false);
  });

  it("follows openpi's bf16 precision: norms, patch and position embeddings float32, heads and LoRA float32", () => {
    const dt = new Map(lora.map((s) => [s.path, s.dtype]));
    expect(dt.get('paligemma_with_expert.paligemma.model.language_model.layers.0.input_layernorm.weight')).toBe(
      'float32',
    );
    expect(dt.get('paligemma_with_expert.gemma_expert.model.norm.weight')).toBe('float32');
    expect(dt.get('paligemma_with_expert.paligemma.model.language_model.norm.weight')).toBe('float32');
    expect(
      dt.get('paligemma_with_expert.paligemma.model.vision_tower.vision_model.embeddings.patch_embedding.bias'),
    ).toBe('float32');
    expect(
      dt.get('paligemma_with_expert.paligemma.model.vision_tower.vision_model.encoder.layers.0.layer_norm1.weight'),
    ).toBe('bfloat16');
    expect(dt.get('paligemma_with_expert.paligemma.model.language_model.layers.0.mlp.up_proj.base_layer.weight')).toBe(
      'bfloat16',
    );
    expect(
      dt.get('paligemma_with_expert.paligemma.model.language_model.layers.0.mlp.up_proj.lora_B.default.weight'),
    ).toBe('float32');
    expect(dt.get('action_time_mlp_in.weight')).toBe('float32');
    expect(pi0ParamSpecs(getPi0Config('pi0_tiny')).every((s) => s.dtype === 'float32')).toBe(true);
  });

  it('the tiny CPU variant has the same module structure at toy sizes', () => {
    const tiny = pi0ParamSpecs(getPi0Config('pi0_tiny_lora'));
    const strip = (p: string) => p.replace(/\.\d+\./g, '.N.');
    const shapeOf = new Set(lora.map((s) => strip(s.path)));
    expect(new Set(tiny.map((s) => strip(s.path)))).toEqual(shapeOf);
    const c = countParams(tiny, (s) => isLoraPath(s.path) || isHead(s));
    // hand count: LM 135,488 + expert 55,456 + SigLIP 80,448 + projector 4,160 + heads 6,304
    expect(countParams(pi0ParamSpecs(getPi0Config('pi0_tiny')), () => true).total).toBe(281_856);
    expect(c.total).toBe(281_856 + 15_872 + 9_216);
    expect(c.loraTensors).toBe(2 * 7 * 2 * 2);
    // the tiny PaliGemma LM has the fixture Gemma's shapes: its LoRA (r 8, all seven) is the fixture's 15,872
    expect(sumParams(tiny, (s) => isLoraPath(s.path) && isUnder(s.path, PI0_PATHS.languageModel))).toBe(15_872);
    expect(pi0SequenceLengths(getPi0Config('pi0_tiny'))).toEqual({
      imageTokens: 48,
      prefix: 64,
      suffix: 11,
      total: 75,
    });
    expect(pi0SequenceLengths(getPi0Config('pi0'))).toEqual({ imageTokens: 768, prefix: 816, suffix: 51, total: 867 });
  });

  it('rejects experts that cannot share attention, and unknown presets', () => {
    expect(() => getPi0Config('pi0', { actionExpertVariant: 'dummy' })).toThrow(InvalidConfigError);
    expect(() => getPi0Config('pi0_large')).toThrow(UnknownVariantError);
  });
});
