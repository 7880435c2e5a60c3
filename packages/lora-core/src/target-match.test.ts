import { describe, expect, it } from 'vitest';
import { matchTarget, patternKey, rankAndAlphaFor } from './target-match.js';
import { makeLoraConfig, type LoraConfigInput } from './config.js';

const m = (input: LoraConfigInput, name: string): boolean => matchTarget(makeLoraConfig(input), name).matched;

describe('matchTarget — list targets (exact name or dotted suffix)', () => {
  it('matches the exact name and any dotted suffix', () => {
    const c = { targetModules: ['q_proj', 'mlp.down_proj'] };
    expect(m(c, 'q_proj')).toBe(true);
    expect(m(c, 'model.layers.0.self_attn.q_proj')).toBe(true);
    expect(m(c, 'model.layers.0.mlp.down_proj')).toBe(true);
    expect(m(c, 'model.layers.0.down_proj')).toBe(false); // suffix must be the whole 'mlp.down_proj'
  });

  it('never matches a substring inside a segment (the seed bug: "proj" vs "q_proj")', () => {
    const c = { targetModules: ['proj'] };
    expect(m(c, 'model.layers.0.self_attn.q_proj')).toBe(false);
    expect(m(c, 'model.proj')).toBe(true);
    expect(m({ targetModules: ['gemma'] }, 'paligemma.gemma_expert')).toBe(false);
    expect(m({ targetModules: ['q'] }, 'model.q_proj')).toBe(false);
  });

  it('takes the entry as a literal for suffix matching (no regex in list entries)', () => {
    expect(m({ targetModules: ['q.proj'] }, 'model.qXproj')).toBe(false);
    expect(m({ targetModules: ['.*proj'] }, 'model.q_proj')).toBe(false);
  });

  it('does not match the root', () => {
    expect(m({ targetModules: [''.padEnd(1, 'x')] }, '')).toBe(false);
  });

  it('reports which entry matched', () => {
    const r = matchTarget(makeLoraConfig({ targetModules: ['k_proj', 'q_proj'] }), 'a.b.q_proj');
    expect(r).toEqual({ matched: true, key: 'q_proj' });
  });
});

describe('matchTarget — string targets (re.fullmatch)', () => {
  it('must match the whole name', () => {
    const c = { targetModules: '.*(q|v)_proj' };
    expect(m(c, 'model.layers.0.self_attn.q_proj')).toBe(true);
    expect(m(c, 'model.layers.0.self_attn.v_proj')).toBe(true);
    expect(m(c, 'model.layers.0.self_attn.k_proj')).toBe(false);
    expect(m({ targetModules: 'q_proj' }, 'model.q_proj')).toBe(false); // fullmatch, not search
    expect(m({ targetModules: 'q_proj|v_proj' }, 'v_proj')).toBe(true); // alternation anchored as a whole
    expect(m({ targetModules: 'q_proj|v_proj' }, 'v_proj.x')).toBe(false);
  });

  it('openpi-style path regex selects one tower only', () => {
    const c = { targetModules: String.raw`paligemma\.language_model\.layers\.\d+\.self_attn\.(q|k|v|o)_proj` };
    expect(m(c, 'paligemma.language_model.layers.3.self_attn.o_proj')).toBe(true);
    expect(m(c, 'gemma_expert.model.layers.3.self_attn.o_proj')).toBe(false);
  });
});

describe('matchTarget — exclude_modules, modules_to_save, layers_to_transform', () => {
  it('exclude_modules (list) wins over targets, by exact name or dotted suffix', () => {
    const c = { targetModules: ['q_proj'], excludeModules: ['layers.1.self_attn.q_proj'] };
    expect(m(c, 'model.layers.0.self_attn.q_proj')).toBe(true);
    expect(matchTarget(makeLoraConfig(c), 'model.layers.1.self_attn.q_proj')).toEqual({
      matched: false,
      reason: 'excluded',
    });
  });

  it('exclude_modules (string) is a full regex match', () => {
    const c = { targetModules: ['q_proj'], excludeModules: String.raw`.*layers\.1\..*` };
    expect(m(c, 'model.layers.1.self_attn.q_proj')).toBe(false);
    expect(m(c, 'model.layers.11.self_attn.q_proj')).toBe(true);
  });

  it('modules_to_save are never LoRA targets', () => {
    const c = { targetModules: ['q_proj', 'score'], modulesToSave: ['score'] };
    expect(matchTarget(makeLoraConfig(c), 'model.score')).toEqual({ matched: false, reason: 'modules_to_save' });
    expect(m(c, 'model.layers.0.q_proj')).toBe(true);
  });

  it('layers_to_transform with and without layers_pattern (PEFT regexes)', () => {
    expect(m({ targetModules: ['q_proj'], layersToTransform: [0, 2] }, 'model.layers.0.self_attn.q_proj')).toBe(true);
    expect(m({ targetModules: ['q_proj'], layersToTransform: [0, 2] }, 'model.layers.1.self_attn.q_proj')).toBe(false);
    expect(m({ targetModules: ['q_proj'], layersToTransform: 1 }, 'model.layers.1.self_attn.q_proj')).toBe(true);
    const c = { targetModules: ['q_proj'], layersToTransform: [1], layersPattern: 'h' };
    expect(m(c, 'transformer.h.1.attn.q_proj')).toBe(true);
    expect(m(c, 'model.layers.1.self_attn.q_proj')).toBe(false);
    // an exact-name target is not subject to the layer filter (PEFT)
    expect(
      m(
        { targetModules: ['model.layers.1.self_attn.q_proj'], layersToTransform: [0] },
        'model.layers.1.self_attn.q_proj',
      ),
    ).toBe(true);
  });
});

describe('rank_pattern / alpha_pattern (PEFT get_pattern_key)', () => {
  it('matches keys against the end of the name at a dot boundary, first key wins', () => {
    expect(patternKey(['q_proj'], 'model.layers.0.self_attn.q_proj')).toBe('q_proj');
    expect(patternKey(['_proj'], 'model.layers.0.self_attn.q_proj')).toBeNull(); // must start after a dot
    expect(patternKey(['layers.0.self_attn.q_proj'], 'model.layers.0.self_attn.q_proj')).toBe(
      'layers.0.self_attn.q_proj',
    );
    expect(patternKey([String.raw`layers\.\d\.self_attn\.q_proj`], 'model.layers.7.self_attn.q_proj')).not.toBeNull();
    expect(patternKey(['q_proj'], 'q_proj')).toBe('q_proj'); // top-level names too
    // PEFT docs' '^model...' form: the inner '^' still matches at position 0 when the name starts there
    expect(patternKey(['^model.layers.0.self_attn.q_proj'], 'model.layers.0.self_attn.q_proj')).toBe(
      '^model.layers.0.self_attn.q_proj',
    );
    expect(patternKey(['^layers.0.self_attn.q_proj'], 'model.layers.0.self_attn.q_proj')).toBeNull();
    expect(patternKey(['x', 'q_proj', 'self_attn.q_proj'], 'a.self_attn.q_proj')).toBe('q_proj');
  });

  it('rankAndAlphaFor falls back to r / lora_alpha', () => {
    const c = makeLoraConfig({
      targetModules: ['q_proj', 'v_proj'],
      r: 8,
      loraAlpha: 16,
      rankPattern: { v_proj: 4 },
      alphaPattern: { [String.raw`layers\.1\.self_attn\.q_proj`]: 2 },
    });
    expect(rankAndAlphaFor(c, 'model.layers.0.self_attn.q_proj')).toEqual({ r: 8, alpha: 16 });
    expect(rankAndAlphaFor(c, 'model.layers.0.self_attn.v_proj')).toEqual({ r: 4, alpha: 16 });
    expect(rankAndAlphaFor(c, 'model.layers.1.self_attn.q_proj')).toEqual({ r: 8, alpha: 2 });
  });
});
