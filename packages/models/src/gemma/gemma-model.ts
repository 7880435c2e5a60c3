// transformers' GemmaModel (the decoder stack), built from parameter specs.
import * as tf from '@tensorflow/tfjs-core';
import { ModuleBase, ModuleList, withStreamedWeights } from '@vla-lora/lora-core';
import type { Embedding } from '../layers/embedding.js';
import { GemmaRMSNorm } from '../layers/rms-norm.js';
import type { AttentionDims } from '../ops/attention.js';
import { checkpointed, trainableVariablesOf } from '../ops/checkpoint.js';
import type { RopeTables } from '../ops/rope.js';
import type { SpecBook } from '../params/spec-book.js';
import { ModelConfigError, SpecMismatchError } from '../errors.js';
import { GemmaAttention } from './attention.js';
import type { GemmaConfig } from './config.js';
import { GemmaDecoderLayer } from './decoder-layer.js';
import { GemmaMLP } from './mlp.js';

/** What the forward pass needs beyond the shapes the specs give. */
export type GemmaStackConfig = Pick<
  GemmaConfig,
  'numLayers' | 'numHeads' | 'numKvHeads' | 'headDim' | 'rmsNormEps' | 'ropeTheta' | 'attnScale'
>;

export class GemmaModel extends ModuleBase {
  readonly hiddenSize: number;

  constructor(
    readonly config: GemmaStackConfig,
    embed: Embedding | null,
    layers: GemmaDecoderLayer[],
    norm: GemmaRMSNorm,
  ) {
    super();
    if (embed !== null) this.registerChild('embed_tokens', embed);
    this.registerChild('layers', new ModuleList(layers));
    this.registerChild('norm', norm);
    this.hiddenSize = norm.weight.shape[0]!;
  }

  /**
   * Allocates a GemmaModel at `prefix` (e.g. `model.`, `paligemma_with_expert.gemma_expert.model.`)
   * from the spec book: sizes come from the specs, the rest from `config`.
   */
  static fromSpecs(
    book: SpecBook,
    prefix: string,
    config: GemmaStackConfig,
    opts: { embedTokens: boolean },
  ): GemmaModel {
    const dims: AttentionDims = {
      numHeads: config.numHeads,
      numKvHeads: config.numKvHeads,
      headDim: config.headDim,
      scale: config.attnScale,
    };
    const hidden = book.shape(`${prefix}norm.weight`)[0]!;
    const embed = opts.embedTokens ? book.embedding(`${prefix}embed_tokens.weight`) : null;
    if (embed !== null && embed.embeddingDim !== hidden) {
      throw new SpecMismatchError(
        `${prefix}embed_tokens.weight has width ${embed.embeddingDim} but ${prefix}norm.weight ${hidden}; fix the specs`,
      );
    }
    const q = config.numHeads * config.headDim;
    const kv = config.numKvHeads * config.headDim;
    const layers: GemmaDecoderLayer[] = [];
    for (let i = 0; i < config.numLayers; i++) {
      const L = `${prefix}layers.${i}`;
      const attn = new GemmaAttention(
        book.linear(`${L}.self_attn.q_proj`, { inFeatures: hidden, outFeatures: q }),
        book.linear(`${L}.self_attn.k_proj`, { inFeatures: hidden, outFeatures: kv }),
        book.linear(`${L}.self_attn.v_proj`, { inFeatures: hidden, outFeatures: kv }),
        book.linear(`${L}.self_attn.o_proj`, { inFeatures: q, outFeatures: hidden }),
        dims,
      );
      const up = book.linear(`${L}.mlp.up_proj`, { inFeatures: hidden });
      const mlp = new GemmaMLP(
        book.linear(`${L}.mlp.gate_proj`, { inFeatures: hidden, outFeatures: up.outFeatures }),
        up,
        book.linear(`${L}.mlp.down_proj`, { inFeatures: up.outFeatures, outFeatures: hidden }),
      );
      layers.push(
        new GemmaDecoderLayer(
          attn,
          mlp,
          new GemmaRMSNorm(book.variable(`${L}.input_layernorm.weight`, 'zeros', [hidden]), config.rmsNormEps),
          new GemmaRMSNorm(book.variable(`${L}.post_attention_layernorm.weight`, 'zeros', [hidden]), config.rmsNormEps),
        ),
      );
    }
    const norm = new GemmaRMSNorm(book.variable(`${prefix}norm.weight`, 'zeros', [hidden]), config.rmsNormEps);
    return new GemmaModel(config, embed, layers, norm);
  }

  get embedTokens(): Embedding {
    const e = this.namedChildren().find(([n]) => n === 'embed_tokens');
    if (e === undefined)
      throw new ModelConfigError(
        "this GemmaModel has no embed_tokens (openpi removes the action expert's); embed tokens with the PaliGemma stack",
      );
    return e[1] as Embedding;
  }
  get layers(): GemmaDecoderLayer[] {
    return this.child<ModuleList>('layers')
      .namedChildren()
      .map(([, m]) => m as GemmaDecoderLayer);
  }
  get norm(): GemmaRMSNorm {
    return this.child<GemmaRMSNorm>('norm');
  }

  /**
   * Token embeddings times transformers' normalizer, torch.tensor(hidden_size**0.5, dtype) — in
   * float32 here, so sqrt(hidden) rounded to float32.
   */
  embed(ids: tf.Tensor): tf.Tensor {
    return tf.mul(this.embedTokens.apply(ids), Math.fround(Math.sqrt(this.hiddenSize)));
  }

  /** Recompute each decoder layer in backward instead of keeping its activations (see `checkpointed`). */
  gradientCheckpointing = false;

  /** The decoder stack on embeddings x [B, S, hidden] and the final norm. */
  forwardEmbeds(x: tf.Tensor, rope: RopeTables, mask: tf.Tensor | null): tf.Tensor {
    let h = x;
    for (const layer of this.layers) {
      const x = h;
      h = this.gradientCheckpointing
        ? checkpointed(
            ([y], [cos, sin, m]) => [layer.apply(y!, { cos: cos as tf.Tensor4D, sin: sin as tf.Tensor4D }, m ?? null)],
            [x],
            mask ? [rope.cos, rope.sin, mask] : [rope.cos, rope.sin],
            trainableVariablesOf([layer]),
            [layer],
            (run) => withStreamedWeights([layer], run),
          )[0]!
        : withStreamedWeights([layer], () => layer.apply(x, rope, mask));
    }
    return this.norm.apply(h);
  }
}
