// The config.json fields the family specs read, copied from the public model repositories. Full copies with
// their source URLs are in fixtures/model-configs/ (fixtures/README.md); configs.test.ts checks these against them.
import type { HfDecoderConfig } from './llama.js';
import type { OpenVlaConfig } from './openvla.js';
import { OPENVLA_VISION, paddedVocab } from './openvla.js';
import type { Qwen25VlConfig } from './qwen2-5-vl.js';

/** https://huggingface.co/meta-llama/Llama-2-7b-hf/blob/main/config.json */
export const LLAMA2_7B_CONFIG: Readonly<HfDecoderConfig & { rms_norm_eps: number }> = Object.freeze({
  hidden_size: 4096,
  intermediate_size: 11008,
  num_attention_heads: 32,
  num_hidden_layers: 32,
  num_key_value_heads: 32,
  vocab_size: 32000,
  tie_word_embeddings: false,
  rms_norm_eps: 1e-5,
});

const QWEN25_VL_VISION = {
  depth: 32,
  hidden_size: 1280,
  intermediate_size: 3420,
  num_heads: 16,
  in_chans: 3,
  patch_size: 14,
  spatial_merge_size: 2,
  temporal_patch_size: 2,
  window_size: 112,
  fullatt_block_indexes: [7, 15, 23, 31],
};

/** https://huggingface.co/Qwen/Qwen2.5-VL-7B-Instruct/blob/main/config.json */
export const QWEN25_VL_7B_CONFIG: Readonly<Qwen25VlConfig> = Object.freeze({
  hidden_size: 3584,
  intermediate_size: 18944,
  num_attention_heads: 28,
  num_hidden_layers: 28,
  num_key_value_heads: 4,
  vocab_size: 152064,
  tie_word_embeddings: false,
  vision_config: { ...QWEN25_VL_VISION, out_hidden_size: 3584 },
});

/** https://huggingface.co/Qwen/Qwen2.5-VL-3B-Instruct/blob/main/config.json */
export const QWEN25_VL_3B_CONFIG: Readonly<Qwen25VlConfig> = Object.freeze({
  hidden_size: 2048,
  intermediate_size: 11008,
  num_attention_heads: 16,
  num_hidden_layers: 36,
  num_key_value_heads: 2,
  vocab_size: 151936,
  tie_word_embeddings: true,
  vision_config: { ...QWEN25_VL_VISION, out_hidden_size: 2048 },
});

/** https://huggingface.co/openvla/openvla-7b/blob/main/config.json: hf_llm_id meta-llama/Llama-2-7b-hf,
 * vision_backbone_id dinosiglip-vit-so-224px, text_config.vocab_size 32064, pad_to_multiple_of 64. */
export const OPENVLA_7B_CONFIG: Readonly<OpenVlaConfig> = Object.freeze({
  llm: LLAMA2_7B_CONFIG,
  paddedVocabSize: paddedVocab(LLAMA2_7B_CONFIG.vocab_size, 64),
  padToMultipleOf: 64,
  vision: OPENVLA_VISION,
});
