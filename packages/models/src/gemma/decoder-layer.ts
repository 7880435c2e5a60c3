import * as tf from '@tensorflow/tfjs-core';
import { ModuleBase } from '@vla-lora/lora-core';
import type { GemmaRMSNorm } from '../layers/rms-norm.js';
import type { RopeTables } from '../ops/rope.js';
import type { GemmaAttention, Qkv } from './attention.js';
import type { GemmaMLP } from './mlp.js';

/**
 * transformers' GemmaDecoderLayer (pre-norm): x + attn(norm(x)), then x + mlp(norm(x)). The two
 * halves are also exposed separately so that pi0 can run one attention over two experts' tokens.
 */
export class GemmaDecoderLayer extends ModuleBase {
  constructor(attn: GemmaAttention, mlp: GemmaMLP, inputNorm: GemmaRMSNorm, postNorm: GemmaRMSNorm) {
    super();
    this.registerChild('self_attn', attn);
    this.registerChild('mlp', mlp);
    this.registerChild('input_layernorm', inputNorm);
    this.registerChild('post_attention_layernorm', postNorm);
  }
  get selfAttn(): GemmaAttention {
    return this.child<GemmaAttention>('self_attn');
  }
  get mlp(): GemmaMLP {
    return this.child<GemmaMLP>('mlp');
  }
  get inputLayernorm(): GemmaRMSNorm {
    return this.child<GemmaRMSNorm>('input_layernorm');
  }
  get postAttentionLayernorm(): GemmaRMSNorm {
    return this.child<GemmaRMSNorm>('post_attention_layernorm');
  }

  /** First half up to the attention core: q/k/v (RoPE applied) of input_layernorm(x). */
  qkv(x: tf.Tensor, rope: RopeTables): Qkv {
    return this.selfAttn.qkv(this.inputLayernorm.apply(x), rope);
  }

  /** Second half: x + o_proj(attnOut), then + mlp(post_attention_layernorm(.)). */
  finish(x: tf.Tensor, attnOut: tf.Tensor): tf.Tensor {
    const h = tf.add(x, this.selfAttn.oProj.apply(attnOut));
    return tf.add(h, this.mlp.apply(this.postAttentionLayernorm.apply(h)));
  }

  apply(x: tf.Tensor, rope: RopeTables, mask: tf.Tensor | null): tf.Tensor {
    const h = tf.add(x, this.selfAttn.apply(this.inputLayernorm.apply(x), rope, mask));
    return tf.add(h, this.mlp.apply(this.postAttentionLayernorm.apply(h)));
  }
}
