// transformers' GemmaAttention: q/k/v/o projections (children that injectLora may wrap), RoPE and
// grouped-query attention on the fast 2-D matMul path.
import type * as tf from '@tensorflow/tfjs-core';
import { ModuleBase, type LinearLike } from '@vla-lora/lora-core';
import { groupedQueryAttention, type AttentionDims } from '../ops/attention.js';
import { applyRope, type RopeTables } from '../ops/rope.js';

export interface Qkv {
  q: tf.Tensor;
  k: tf.Tensor;
  v: tf.Tensor;
}

export class GemmaAttention extends ModuleBase {
  constructor(
    q: LinearLike,
    k: LinearLike,
    v: LinearLike,
    o: LinearLike,
    readonly dims: AttentionDims,
  ) {
    super();
    this.registerChild('q_proj', q);
    this.registerChild('k_proj', k);
    this.registerChild('v_proj', v);
    this.registerChild('o_proj', o);
  }

  get qProj(): LinearLike {
    return this.child<LinearLike>('q_proj');
  }
  get kProj(): LinearLike {
    return this.child<LinearLike>('k_proj');
  }
  get vProj(): LinearLike {
    return this.child<LinearLike>('v_proj');
  }
  get oProj(): LinearLike {
    return this.child<LinearLike>('o_proj');
  }

  /** Projections of the (normed) hidden states, RoPE applied to q and k: [B, S, H*D] / [B, S, KV*D]. */
  qkv(h: tf.Tensor, rope: RopeTables): Qkv {
    const D = this.dims.headDim;
    return {
      q: applyRope(this.qProj.apply(h), rope, D),
      k: applyRope(this.kProj.apply(h), rope, D),
      v: this.vProj.apply(h),
    };
  }

  /** Self-attention of `h` [B, S, hidden] under an additive mask [B, S, S]. */
  apply(h: tf.Tensor, rope: RopeTables, mask: tf.Tensor | null): tf.Tensor {
    const { q, k, v } = this.qkv(h, rope);
    return this.oProj.apply(groupedQueryAttention(q, k, v, mask, this.dims));
  }
}
