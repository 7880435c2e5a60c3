import type * as tf from '@tensorflow/tfjs-core';
import { ModuleBase } from '@vla-lora/lora-core';
import { gemmaRmsNorm } from '../ops/norms.js';

/** GemmaRMSNorm: the weight is an offset from 1 (`* (1 + weight)`), zeros = identity scale. */
export class GemmaRMSNorm extends ModuleBase {
  constructor(
    weight: tf.Variable,
    readonly eps: number,
  ) {
    super();
    this.registerParameter('weight', weight);
  }
  get weight(): tf.Variable {
    return this.ownParameters()[0]![1];
  }
  apply(x: tf.Tensor): tf.Tensor {
    return gemmaRmsNorm(x, this.weight, this.eps);
  }
}
