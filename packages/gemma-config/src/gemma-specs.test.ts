import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { countParams } from './accounting.js';
import {
  gemmaCausalLmSpecs,
  gemmaModelSpecs,
  hfGemmaConfigFromDims,
  hfGemmaDims,
  type HfGemmaConfig,
} from './gemma-specs.js';
import { DuplicateParamError, InvalidConfigError } from './errors.js';
import { ATTN_LINEARS, FFN_LINEARS, getGemmaVariant } from './gemma-variants.js';

const fixture = (p: string): string =>
  fileURLToPath(new URL(`../../../fixtures/peft-tiny-gemma/${p}`, import.meta.url));

/** Names and shapes from a safetensors header (8-byte LE length + JSON). */
function safetensorsHeader(path: string): Map<string, number[]> {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { shape: number[] } | Record<string, string>
  >;
  const out = new Map<string, number[]>();
  for (const [k, v] of Object.entries(header)) if (k !== '__metadata__') out.set(k, (v as { shape: number[] }).shape);
  return out;
}

const hf = JSON.parse(readFileSync(fixture('base/config.json'), 'utf8')) as HfGemmaConfig;
const allSeven = [...ATTN_LINEARS, ...FFN_LINEARS];

describe('gemmaCausalLmSpecs against the transformers fixture', () => {
  it('names and shapes equal base/model.safetensors exactly (lm_head tied, not stored)', () => {
    const specs = gemmaCausalLmSpecs(hf);
    const file = safetensorsHeader(fixture('base/model.safetensors'));
    expect(new Map(specs.map((s) => [s.path, s.shape]))).toEqual(file);
    expect(specs[0]?.aliases).toEqual(['lm_head.weight']);
  });

  it('LoRA specs equal the PEFT adapter file (names without the adapter name) and the fixture counts 15,872 / 102,208', () => {
    const specs = gemmaCausalLmSpecs(hf, { prefix: 'base_model.model.', lora: { rank: 8, targets: allSeven } });
    const adapter = safetensorsHeader(fixture('adapter/adapter_model.safetensors'));
    const lora = specs
      .filter((s) => s.path.includes('.lora_'))
      .map((s) => [s.path.replace('.default.weight', '.weight'), s.shape] as const);
    expect(new Map(lora)).toEqual(adapter);
    const c = countParams(specs);
    expect(c.trainable).toBe(15_872);
    expect(c.total).toBe(102_208);
    expect(c.loraTensors).toBe(28);
    expect(specs.some((s) => s.path === 'base_model.model.model.layers.0.self_attn.q_proj.base_layer.weight')).toBe(
      true,
    );
    expect(specs.some((s) => s.path === 'base_model.model.model.layers.0.self_attn.q_proj.weight')).toBe(false);
  });

  it('variant dims round-trip through a transformers config', () => {
    const cfg = hfGemmaConfigFromDims(hfGemmaDims(hf), hf.vocab_size);
    expect(gemmaCausalLmSpecs(cfg)).toEqual(gemmaCausalLmSpecs(hf));
  });

  it("the tiny pi0 PaliGemma variant (gemma_tiny) has exactly the fixture model's layer shapes", () => {
    const tiny = gemmaModelSpecs(getGemmaVariant('gemma_tiny'), { prefix: 'model.', vocabSize: hf.vocab_size });
    expect(tiny.map((s) => [s.path, s.shape])).toEqual(gemmaCausalLmSpecs(hf).map((s) => [s.path, s.shape]));
  });

  it('untied embeddings get their own lm_head spec', () => {
    const specs = gemmaCausalLmSpecs({ ...hf, tie_word_embeddings: false });
    expect(specs.at(-1)).toEqual({ path: 'lm_head.weight', shape: [256, 64], dtype: 'float32' });
    expect(countParams(specs, () => true).total).toBe(86_336 + 256 * 64);
  });

  it('rejects dimensions that cannot form grouped-query attention', () => {
    expect(() =>
      gemmaModelSpecs(
        { width: 64, depth: 1, mlpDim: 128, numHeads: 3, numKvHeads: 2, headDim: 16 },
        { prefix: '', vocabSize: 8 },
      ),
    ).toThrow(InvalidConfigError);
  });

  it('countParams refuses duplicate paths', () => {
    const specs = gemmaCausalLmSpecs(hf);
    expect(() => countParams([...specs, { path: 'lm_head.weight', shape: [1], dtype: 'float32' }])).toThrow(
      DuplicateParamError,
    );
  });
});
