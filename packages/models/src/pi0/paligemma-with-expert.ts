// openpi's PaliGemmaWithExpertModel (gemma_pytorch.py): PaliGemma (SigLIP + projector + Gemma LM)
// and the Gemma action expert, sharing one attention per layer over the concatenated sequence.
import * as tf from '@tensorflow/tfjs-core';
import { ModuleBase, ModuleDict, type Linear, type LinearLike, withStreamedWeights } from '@vla-lora/lora-core';
import type { GemmaModel } from '../gemma/gemma-model.js';
import { groupedQueryAttention, type AttentionDims } from '../ops/attention.js';
import { checkpointed, trainableVariablesOf } from '../ops/checkpoint.js';
import type { RopeTables } from '../ops/rope.js';
import type { SiglipVisionModel } from '../siglip/siglip.js';

/** Per-layer keys and values (RoPE applied) of the prefix: openpi's past_key_values. */
export interface PrefixCache {
  keys: tf.Tensor[];
  values: tf.Tensor[];
  /** Prefix length. */
  length: number;
  dispose(): void;
}

export class PaliGemmaWithExpert extends ModuleBase {
  constructor(
    vision: SiglipVisionModel,
    projector: Linear,
    languageModel: GemmaModel,
    expertModel: GemmaModel,
    expertLmHead: Linear,
  ) {
    super();
    const paligemma = new ModuleDict([
      [
        'model',
        new ModuleDict([
          ['vision_tower', vision],
          ['multi_modal_projector', new ModuleDict([['linear', projector]])],
          ['language_model', languageModel],
        ]),
      ],
      // lm_head is tied to language_model.embed_tokens (a state-dict alias, no parameter of its own).
    ]);
    const expert = new ModuleDict([
      ['model', expertModel],
      ['lm_head', expertLmHead],
    ]);
    this.registerChild('paligemma', paligemma);
    this.registerChild('gemma_expert', expert);
  }

  /**
   * Recompute each joint layer (and, set separately on `visionTower`, each SigLIP layer) in backward
   * instead of keeping its activations: openpi's `nn.remat` per block.
   */
  gradientCheckpointing = false;

  private get paliModel(): ModuleDict {
    return this.child<ModuleDict>('paligemma').get('model') as ModuleDict;
  }
  get visionTower(): SiglipVisionModel {
    return this.paliModel.get('vision_tower') as SiglipVisionModel;
  }
  get projector(): LinearLike {
    return (this.paliModel.get('multi_modal_projector') as ModuleDict).get('linear') as LinearLike;
  }
  get languageModel(): GemmaModel {
    return this.paliModel.get('language_model') as GemmaModel;
  }
  get expertModel(): GemmaModel {
    return this.child<ModuleDict>('gemma_expert').get('model') as GemmaModel;
  }

  /** SigLIP -> projector: images [B, H, W, 3] -> [B, tokens, paligemma width] (openpi: no 1/sqrt(width) scaling). */
  embedImage(images: tf.Tensor): tf.Tensor {
    return this.projector.apply(this.visionTower.apply(images));
  }

  /** Language tokens embedded and scaled by sqrt(width) (embed_prefix's lang_emb * math.sqrt(dim)). */
  embedLanguage(ids: tf.Tensor): tf.Tensor {
    return this.languageModel.embed(ids);
  }

  private attnDims(): AttentionDims {
    const c = this.languageModel.config;
    return { numHeads: c.numHeads, numKvHeads: c.numKvHeads, headDim: c.headDim, scale: c.attnScale };
  }

  /**
   * The joint forward (compute_layer_complete for every layer, then the final norms): each expert
   * its own norms and q/k/v, one attention over [prefix | suffix] with `mask` [B, S, S], each its
   * own o_proj and MLP. Returns the expert's normed output [B, Ss, expert width]. The prefix's
   * outputs after the last attention (its last o_proj/MLP and final norm) feed nothing pi0 uses
   * and are not computed; their parameters get no gradient, exactly as in torch.
   */
  forwardJoint(
    prefix: tf.Tensor,
    suffix: tf.Tensor,
    ropePrefix: RopeTables,
    ropeSuffix: RopeTables,
    mask: tf.Tensor,
  ): tf.Tensor {
    const lm = this.languageModel.layers;
    const ex = this.expertModel.layers;
    const dims = this.attnDims();
    const sp = prefix.shape[1]!;
    const ss = suffix.shape[1]!;
    let xp = prefix;
    let xs = suffix;
    for (let i = 0; i < lm.length; i++) {
      const last = i === lm.length - 1;
      const step = ([p, s]: tf.Tensor[], [cp, sp_, cs, ss_, m]: tf.Tensor[]): tf.Tensor[] => {
        const a = lm[i]!.qkv(p!, { cos: cp as tf.Tensor4D, sin: sp_ as tf.Tensor4D });
        const b = ex[i]!.qkv(s!, { cos: cs as tf.Tensor4D, sin: ss_ as tf.Tensor4D });
        const out = groupedQueryAttention(
          tf.concat([a.q, b.q], 1),
          tf.concat([a.k, b.k], 1),
          tf.concat([a.v, b.v], 1),
          m!,
          dims,
        );
        const [op, os] = tf.split(out, [sp, ss], 1) as [tf.Tensor, tf.Tensor];
        const nextS = ex[i]!.finish(s!, os);
        return last ? [nextS] : [lm[i]!.finish(p!, op), nextS];
      };
      const constants = [ropePrefix.cos, ropePrefix.sin, ropeSuffix.cos, ropeSuffix.sin, mask];
      if (!this.gradientCheckpointing) {
        const inputs = [xp, xs];
        const outs = withStreamedWeights([lm[i]!, ex[i]!], () => step(inputs, constants));
        if (!last) xp = outs[0]!;
        xs = outs[outs.length - 1]!;
        continue;
      }
      // The last PaliGemma layer contributes only its q/k/v: its o_proj, MLP and second norm stay
      // without a gradient, as in the plain path.
      const pali = last
        ? [lm[i]!.inputLayernorm, lm[i]!.selfAttn.qProj, lm[i]!.selfAttn.kProj, lm[i]!.selfAttn.vProj]
        : [lm[i]!];
      const modules = [...pali, ex[i]!];
      const outs = checkpointed(step, [xp, xs], constants, trainableVariablesOf(modules), modules, (run) =>
        withStreamedWeights([lm[i]!, ex[i]!], run),
      );
      if (!last) xp = outs[0]!;
      xs = outs[outs.length - 1]!;
    }
    return this.expertModel.norm.apply(xs);
  }

  /**
   * The prefix alone through PaliGemma's LM (inputs_embeds=[prefix, None], use_cache=True): returns
   * each layer's keys/values for the suffix steps. Tensors are kept; call cache.dispose().
   */
  prefixCache(prefix: tf.Tensor, rope: RopeTables, mask: tf.Tensor): PrefixCache {
    const lm = this.languageModel.layers;
    const dims = this.attnDims();
    const keys: tf.Tensor[] = [];
    const values: tf.Tensor[] = [];
    tf.tidy(() => {
      let x = prefix;
      for (let i = 0; i < lm.length; i++) {
        const h = x;
        x = withStreamedWeights([lm[i]!], () => {
          const { q, k, v } = lm[i]!.qkv(h, rope);
          keys.push(tf.keep(k));
          values.push(tf.keep(v));
          return i < lm.length - 1 ? lm[i]!.finish(h, groupedQueryAttention(q, k, v, mask, dims)) : h;
        });
      }
    });
    return {
      keys,
      values,
      length: prefix.shape[1]!,
      dispose: () => {
        for (const t of [...keys, ...values]) t.dispose();
      },
    };
  }

  /**
   * The suffix through the expert against the cached prefix (inputs_embeds=[None, suffix]):
   * attention keys/values are [cache | suffix], mask [B, Ss, Sp + Ss]. Returns the normed output.
   */
  forwardSuffixCached(suffix: tf.Tensor, rope: RopeTables, mask: tf.Tensor, cache: PrefixCache): tf.Tensor {
    const ex = this.expertModel.layers;
    const dims = this.attnDims();
    let x = suffix;
    for (let i = 0; i < ex.length; i++) {
      const h = x;
      x = withStreamedWeights([ex[i]!], () => {
        const { q, k, v } = ex[i]!.qkv(h, rope);
        const out = groupedQueryAttention(
          q,
          tf.concat([cache.keys[i]!, k], 1),
          tf.concat([cache.values[i]!, v], 1),
          mask,
          dims,
        );
        return ex[i]!.finish(h, out);
      });
    }
    return this.expertModel.norm.apply(x);
  }
}
