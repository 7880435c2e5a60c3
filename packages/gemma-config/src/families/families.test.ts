import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countParams, sumParams } from '../accounting.js';
import { numel } from '../param-spec.js';
import { isLoraPath, isUnder } from '../path-segments.js';
import { LLAMA2_7B_CONFIG, OPENVLA_7B_CONFIG, QWEN25_VL_3B_CONFIG, QWEN25_VL_7B_CONFIG } from './configs.js';
import { decoderModules } from './llama.js';
import { moduleParams } from './modules.js';
import { openVlaModules, paddedVocab } from './openvla.js';
import { allLinearTargets, matchesTargetModules } from './peft-targets.js';
import { qwen25VlModules, qwenVisionBlockAttention, qwenWindowPatches } from './qwen2-5-vl.js';
import { getFamilyRecipe, planFamily } from './recipes.js';

const fixture = (name: string): Record<string, unknown> =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../../../fixtures/model-configs/${name}`, import.meta.url)), 'utf8'),
  ) as Record<string, unknown>;
const paramsOf = (mods: ReturnType<typeof openVlaModules>) => mods.flatMap((m) => moduleParams(m));

describe('configs are the public config.json files (fixtures/model-configs)', () => {
  it('Llama-2-7B, Qwen2.5-VL 7B/3B, OpenVLA', () => {
    const llama = fixture('llama-2-7b-hf.config.json');
    for (const [k, v] of Object.entries(LLAMA2_7B_CONFIG)) expect(llama[k], k).toEqual(v);
    for (const [file, cfg] of [
      ['qwen2.5-vl-7b-instruct.config.json', QWEN25_VL_7B_CONFIG],
      ['qwen2.5-vl-3b-instruct.config.json', QWEN25_VL_3B_CONFIG],
    ] as const) {
      const j = fixture(file);
      for (const [k, v] of Object.entries(cfg)) {
        if (k === 'vision_config') {
          const vj = j.vision_config as Record<string, unknown>;
          for (const [vk, vv] of Object.entries(v as object)) expect(vj[vk], `${file} vision_config.${vk}`).toEqual(vv);
        } else expect(j[k], `${file} ${k}`).toEqual(v);
      }
    }
    const ovla = fixture('openvla-7b.config.excerpt.json');
    expect((ovla.text_config as { vocab_size: number }).vocab_size).toBe(OPENVLA_7B_CONFIG.paddedVocabSize);
    expect(ovla.pad_to_multiple_of).toBe(OPENVLA_7B_CONFIG.padToMultipleOf);
    expect(ovla.timm_model_ids).toEqual(OPENVLA_7B_CONFIG.vision.map((v) => v.timmId));
    expect(paddedVocab(32000, 64)).toBe(32064);
  });
});

describe('parameter counts equal those printed by the real tools', () => {
  it('openvla_7b_lora: PEFT 0.11.1 line from public finetune.py logs, exactly', () => {
    const p = planFamily('openvla_7b_lora');
    expect(p.peftLine).toBe('trainable params: 110,828,288 || all params: 7,652,065,472 || trainable%: 1.4483');
    expect(p.peftLine).toBe(p.recipe.publishedCounts?.text);
    expect(p.baseParams).toBe(7_541_237_184);
    expect(p.lines).toContain('base params: 7,541,237,184');
  });

  it('qwen2_5_vl_7b_lora: the LLaMA-Factory log line, exactly', () => {
    const p = planFamily('qwen2_5_vl_7b_lora');
    expect(p.peftLine).toBe('trainable params: 20,185,088 || all params: 8,312,351,744 || trainable%: 0.2428');
    expect(p.peftLine).toBe(p.recipe.publishedCounts?.text);
    expect(p.baseParams).toBe(8_292_166_656);
    expect(p.counts.loraTensors).toBe(28 * 7 * 2);
  });

  it('qwen2_5_vl_3b_lora: base 3,754,622,976 (public checkpoint records), vision tower 668,684,288, tied head counted once', () => {
    const p = planFamily('qwen2_5_vl_3b_lora');
    expect(p.baseParams).toBe(3_754_622_976);
    expect(p.peftLine).toBe('trainable params: 14,966,784 || all params: 3,769,589,760 || trainable%: 0.3970');
    const specs = p.recipe.specs;
    expect(sumParams(specs, (s) => isUnder(s.path, 'visual'))).toBe(668_684_288);
    const emb = specs.find((s) => s.path === 'model.embed_tokens.weight');
    expect(emb?.aliases).toEqual(['lm_head.weight']);
    expect(specs.some((s) => s.path.startsWith('lm_head'))).toBe(false);
  });

  it('module sizes equal torchinfo of Qwen2.5-VL-3B: vision block 19,702,200, merger 36,707,328, decoder layer 77,076,992, patch embed 1,505,280', () => {
    const specs = qwen25VlModules(QWEN25_VL_3B_CONFIG).flatMap((m) => moduleParams(m));
    const under = (p: string) => sumParams(specs, (s) => isUnder(s.path, p));
    expect(under('visual.blocks.0')).toBe(19_702_200);
    expect(under('visual.merger.mlp')).toBe(36_707_328);
    expect(under('model.layers.0')).toBe(77_076_992);
    expect(under('visual.patch_embed')).toBe(1_505_280);
  });

  // The figure public runs print for meta-llama/Llama-2-7b-hf (e.g. PEFT logs of LoRA on its q/v_proj: "all params:
  // 6,738,415,616" in full precision, and parameter-count tests of Llama-2-7B).
  it('Llama-2-7B alone: 6,738,415,616 parameters (32,000 vocab, untied head)', () => {
    const specs = decoderModules(LLAMA2_7B_CONFIG, {
      prefix: 'model',
      lmHead: 'lm_head',
      qkvBias: false,
      dtype: 'bfloat16',
    }).flatMap((m) => moduleParams(m));
    expect(countParams(specs).total).toBe(6_738_415_616);
  });
});

describe("PEFT's all-linear", () => {
  const modules = openVlaModules(OPENVLA_7B_CONFIG);
  const wrapped = (targets: string[]) =>
    modules.filter((m) => (m.kind === 'Linear' || m.kind === 'Conv2d') && matchesTargetModules(m.path, targets));

  it('current PEFT (full module names): every Linear except the output embedding, no convolutions', () => {
    const t = allLinearTargets(modules, 'language_model.lm_head', 'module-names');
    const w = wrapped(t);
    expect(w.some((m) => m.path === 'language_model.lm_head')).toBe(false);
    expect(w.every((m) => m.kind === 'Linear')).toBe(true);
    expect(w.length).toBe(modules.filter((m) => m.kind === 'Linear').length - 1);
    const lora = w.reduce((a, m) => a + 32 * ((m.inFeatures ?? 0) + (m.outFeatures ?? 0)), 0);
    expect(lora).toBe(109_563_904);
  });

  it('PEFT 0.11.1 (last names, nested head not removed): lm_head and both patch-embed Conv2d "proj" are wrapped too', () => {
    const t = allLinearTargets(modules, 'language_model.lm_head', 'base-names');
    expect(t).toContain('lm_head');
    expect(t).toContain('proj');
    const w = wrapped(t);
    expect(w.filter((m) => m.kind === 'Conv2d').map((m) => m.path)).toEqual([
      'vision_backbone.featurizer.patch_embed.proj',
      'vision_backbone.fused_featurizer.patch_embed.proj',
    ]);
    const r = getFamilyRecipe('openvla_7b_lora');
    const a = r.specs.find((s) => s.path === 'vision_backbone.featurizer.patch_embed.proj.lora_A.default.weight');
    const b = r.specs.find((s) => s.path === 'vision_backbone.featurizer.patch_embed.proj.lora_B.default.weight');
    expect(a?.shape).toEqual([32, 3, 14, 14]);
    expect(b?.shape).toEqual([1024, 32, 1, 1]);
  });

  it('target_modules matching: a list matches whole names or "." suffixes, a string is a full regex', () => {
    expect(matchesTargetModules('model.layers.0.self_attn.q_proj', ['q_proj'])).toBe(true);
    expect(matchesTargetModules('model.layers.0.self_attn.xq_proj', ['q_proj'])).toBe(false);
    expect(matchesTargetModules('model.layers.0.self_attn.q_proj', '.*\\.q_proj')).toBe(true);
    expect(matchesTargetModules('model.layers.0.self_attn.q_proj', 'q_proj')).toBe(false);
  });
});

describe('Qwen2.5-VL structure', () => {
  it('window attention except in fullatt_block_indexes; 64 patches per window; merger 5120 → hidden', () => {
    const att = qwenVisionBlockAttention(QWEN25_VL_7B_CONFIG.vision_config);
    expect(att.filter((a) => a === 'full').length).toBe(4);
    expect(att[7]).toBe('full');
    expect(att[0]).toBe('window');
    expect(qwenWindowPatches(QWEN25_VL_7B_CONFIG.vision_config)).toBe(64);
    const m = qwen25VlModules(QWEN25_VL_7B_CONFIG).find((x) => x.path === 'visual.merger.mlp.2');
    expect([m?.inFeatures, m?.outFeatures]).toEqual([5120, 3584]);
  });

  it('LLaMA-Factory recipe: LoRA only on the language model, the 7B head is untied and not wrapped', () => {
    const r = getFamilyRecipe('qwen2_5_vl_7b_lora');
    expect(r.loraModules.length).toBe(28 * 7);
    expect(r.loraModules.every((p) => p.startsWith('model.layers.'))).toBe(true);
    expect(r.specs.find((s) => s.path === 'lm_head.weight')?.shape).toEqual([152064, 3584]);
    const lora = r.specs.filter((s) => isLoraPath(s.path));
    expect(lora.every((s) => s.dtype === 'float32')).toBe(true);
    expect(lora.reduce((a, s) => a + numel(s), 0)).toBe(20_185_088);
  });

  it('OpenVLA vision: DINOv2 303,230,976 and SigLIP (with its attention-pool head) 427,680,704 parameters', () => {
    const specs = paramsOf(openVlaModules(OPENVLA_7B_CONFIG));
    expect(sumParams(specs, (s) => isUnder(s.path, 'vision_backbone.featurizer'))).toBe(303_230_976);
    expect(sumParams(specs, (s) => isUnder(s.path, 'vision_backbone.fused_featurizer'))).toBe(427_680_704);
    expect(specs.find((s) => s.path === 'language_model.model.embed_tokens.weight')?.shape).toEqual([32064, 4096]);
  });
});
