import type * as tf from '@tensorflow/tfjs-core';
import { ModuleBase } from '@vla-lora/lora-core';
import { layerNorm } from '../ops/norms.js';

/** nn.LayerNorm over the last axis with `weight` and `bias`. */
export class LayerNorm extends ModuleBase {
  constructor(
    weight: tf.Variable,
    bias: tf.Variable,
    readonly eps: number,
  ) {
    super();
    this.registerParameter('weight', weight);
    this.registerParameter('bias', bias);
  }
  get weight(): tf.Variable {
    return this.ownParameters()[0]![1];
  }
  get bias(): tf.Variable {
    return this.ownParameters()[1]![1];
  }
  apply(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
