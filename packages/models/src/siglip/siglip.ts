// transformers' SiglipVisionModel as PaliGemma configures it (no pooling head), module names as in
// openpi's PyTorch pi0: vision_model.embeddings.{patch_embedding,position_embedding},
// vision_model.encoder.layers.N.{layer_norm1,self_attn.{k,v,q,out}_proj,layer_norm2,mlp.fc1/fc2},
// vision_model.post_layernorm.
import * as tf from '@tensorflow/tfjs-core';
import {
  linear2d,
  ModuleBase,
  ModuleDict,
  ModuleList,
  type LinearLike,
  withStreamedWeights,
} from '@vla-lora/lora-core';
import type { SiglipConfig } from '@vla-lora/gemma-config';
import { InputShapeError } from '../errors.js';
import { Embedding } from '../layers/embedding.js';
import { checkpointed, trainableVariablesOf } from '../ops/checkpoint.js';
import { LayerNorm } from '../layers/layer-norm.js';
import { WeightBiasModule } from '../layers/weight-bias.js';
import { geluTanh } from '../ops/activations.js';
import { groupedQueryAttention, type AttentionDims } from '../ops/attention.js';
import type { SpecBook } from '../params/spec-book.js';

/** The Conv2d(C, W, kernel=P, stride=P) patch embedding, computed as one 2-D matMul over patches. */
export class PatchEmbedding extends WeightBiasModule {
  constructor(weight: tf.Variable, bias: tf.Variable) {
    if (weight.rank !== 4)
      throw new InputShapeError(`patch_embedding.weight must be [out, C, P, P], got [${weight.shape}]`);
    super(weight, bias);
  }

  /** images [B, H, W, C] (channels last) -> [B, (H/P)*(W/P), out], patches row-major as torch's flatten(2). */
  apply(images: tf.Tensor): tf.Tensor {
    const [out, C, P] = this.weight.shape as [number, number, number, number];
    const [B, H, W, Ci] = images.shape as [number, number, number, number];
    if (images.rank !== 4 || Ci !== C || H % P !== 0 || W % P !== 0) {
      throw new InputShapeError(`images must be [B, H, W, ${C}] with H and W multiples of ${P}; got [${images.shape}]`);
    }
    const nh = H / P;
    const nw = W / P;
    // [B, nh, P, nw, P, C] -> [B, nh, nw, C, P, P]: each row is one patch in the conv weight's (c, ky, kx) order.
    const patches = tf.reshape(tf.transpose(tf.reshape(images, [B, nh, P, nw, P, C]), [0, 1, 3, 5, 2, 4]), [
      B * nh * nw,
      C * P * P,
    ]) as tf.Tensor2D;
    const w2d = tf.reshape(this.weight, [out, C * P * P]) as tf.Tensor2D;
    let y: tf.Tensor;
    if (this.weight.trainable || this.bias.trainable) {
      // Training the patch embedding (rare: pi0 LoRA freezes SigLIP): tfjs's own gradients, since
      // linear2d's backward would close over the reshaped weight that the caller's tidy disposes.
      y = tf.add(tf.matMul(patches, tf.transpose(w2d)), this.bias);
    } else {
      y = linear2d(patches, w2d, this.bias as tf.Tensor1D, false, false);
    }
    return tf.reshape(y, [B, nh * nw, out]);
  }
}

class SiglipAttention extends ModuleBase {
  constructor(
    k: LinearLike,
    v: LinearLike,
    q: LinearLike,
    o: LinearLike,
    readonly dims: AttentionDims,
  ) {
    super();
    this.registerChild('k_proj', k);
    this.registerChild('v_proj', v);
    this.registerChild('q_proj', q);
    this.registerChild('out_proj', o);
  }
  apply(x: tf.Tensor): tf.Tensor {
    const q = this.child<LinearLike>('q_proj').apply(x);
    const k = this.child<LinearLike>('k_proj').apply(x);
    const v = this.child<LinearLike>('v_proj').apply(x);
    return this.child<LinearLike>('out_proj').apply(groupedQueryAttention(q, k, v, null, this.dims));
  }
}

class SiglipMLP extends ModuleBase {
  constructor(fc1: LinearLike, fc2: LinearLike) {
    super();
    this.registerChild('fc1', fc1);
    this.registerChild('fc2', fc2);
  }
  apply(x: tf.Tensor): tf.Tensor {
    return this.child<LinearLike>('fc2').apply(geluTanh(this.child<LinearLike>('fc1').apply(x)));
  }
}

class SiglipEncoderLayer extends ModuleBase {
  constructor(ln1: LayerNorm, attn: SiglipAttention, ln2: LayerNorm, mlp: SiglipMLP) {
    super();
    this.registerChild('layer_norm1', ln1);
    this.registerChild('self_attn', attn);
    this.registerChild('layer_norm2', ln2);
    this.registerChild('mlp', mlp);
  }
  apply(x: tf.Tensor): tf.Tensor {
    const h = tf.add(x, this.child<SiglipAttention>('self_attn').apply(this.child<LayerNorm>('layer_norm1').apply(x)));
    return tf.add(h, this.child<SiglipMLP>('mlp').apply(this.child<LayerNorm>('layer_norm2').apply(h)));
  }
}

export class SiglipVisionModel extends ModuleBase {
  constructor(
    readonly config: SiglipConfig,
    book: SpecBook,
    prefix: string,
  ) {
    super();
    const h = config.hiddenSize;
    const E = `${prefix}vision_model.embeddings`;
    const eps = config.layerNormEps;
    const ln = (p: string): LayerNorm =>
      new LayerNorm(book.variable(`${p}.weight`, 'ones', [h]), book.variable(`${p}.bias`, 'zeros', [h]), eps);
    const embeddings = new ModuleDict([
      [
        'patch_embedding',
        new PatchEmbedding(
          book.variable(`${E}.patch_embedding.weight`, { normalStd: 0.02 }),
          book.variable(`${E}.patch_embedding.bias`, 'zeros', [h]),
        ),
      ],
      ['position_embedding', new Embedding(book.variable(`${E}.position_embedding.weight`, { normalStd: 0.02 }))],
    ]);
    if (h % config.numHeads !== 0)
      throw new InputShapeError(`SigLIP hidden ${h} is not a multiple of ${config.numHeads} heads`);
    const headDim = h / config.numHeads;
    const dims: AttentionDims = {
      numHeads: config.numHeads,
      numKvHeads: config.numHeads,
      headDim,
      scale: Math.pow(headDim, -0.5),
    };
    const layers: SiglipEncoderLayer[] = [];
    for (let i = 0; i < config.numLayers; i++) {
      const L = `${prefix}vision_model.encoder.layers.${i}`;
      const sq = { inFeatures: h, outFeatures: h };
      const attn = new SiglipAttention(
        book.linear(`${L}.self_attn.k_proj`, sq),
        book.linear(`${L}.self_attn.v_proj`, sq),
        book.linear(`${L}.self_attn.q_proj`, sq),
        book.linear(`${L}.self_attn.out_proj`, sq),
        dims,
      );
      const mlp = new SiglipMLP(
        book.linear(`${L}.mlp.fc1`, { inFeatures: h, outFeatures: config.intermediateSize }),
        book.linear(`${L}.mlp.fc2`, { inFeatures: config.intermediateSize, outFeatures: h }),
      );
      layers.push(new SiglipEncoderLayer(ln(`${L}.layer_norm1`), attn, ln(`${L}.layer_norm2`), mlp));
    }
    const visionModel = new ModuleDict([
      ['embeddings', embeddings],
      ['encoder', new ModuleDict([['layers', new ModuleList(layers)]])],
      ['post_layernorm', ln(`${prefix}vision_model.post_layernorm`)],
    ]);
    this.registerChild('vision_model', visionModel);
  }

  /** Recompute each encoder layer in backward instead of keeping its activations (see `checkpointed`). */
  gradientCheckpointing = false;

  /** images [B, H, W, C] in [-1, 1] -> last_hidden_state [B, tokens, hidden] (post-layernormed). */
  apply(images: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const vm = this.child<ModuleDict>('vision_model');
      const emb = vm.get('embeddings') as ModuleDict;
      const patch = emb.get('patch_embedding') as PatchEmbedding;
      const pos = emb.get('position_embedding') as Embedding;
      let x = patch.apply(images);
      if (x.shape[1] !== pos.numEmbeddings) {
        throw new InputShapeError(
          `images give ${x.shape[1]} patches but the position table has ${pos.numEmbeddings}; resize images to ${this.config.imageSize}px`,
        );
      }
      x = tf.add(x, pos.weight);
      const layers = (vm.get('encoder') as ModuleDict).get('layers') as ModuleList;
      for (const [, m] of layers.namedChildren()) {
        const layer = m as SiglipEncoderLayer;
        const h0 = x;
        x = this.gradientCheckpointing
          ? checkpointed(
              ([h]) => [layer.apply(h!)],
              [h0],
              [],
              trainableVariablesOf([layer]),
              [layer],
              (run) => withStreamedWeights([layer], run),
            )[0]!
          : withStreamedWeights([layer], () => layer.apply(h0));
      }
      return (vm.get('post_layernorm') as LayerNorm).apply(x);
    });
  }
}
