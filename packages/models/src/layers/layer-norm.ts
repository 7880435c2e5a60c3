import type * as tf from '@tensorflow/tfjs-core';
import { layerNorm } from '../ops/norms.js';
import { WeightBiasModule } from './weight-bias.js';

/** nn.LayerNorm over the last axis with `weight` and `bias`. */
export class LayerNorm extends WeightBiasModule {
  constructor(
    weight: tf.Variable,
    bias: tf.Variable,
    readonly eps: number,
  ) {
    super(weight, bias);
  }
  apply(x: tf.Tensor): tf.Tensor {
    return layerNorm(x, this.weight, this.bias, this.eps);
  }
}
