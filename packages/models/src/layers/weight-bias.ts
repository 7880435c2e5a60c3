import type * as tf from '@tensorflow/tfjs-core';
import { ModuleBase } from '@vla-lora/lora-core';

/** A module with exactly two parameters, `weight` then `bias` (torch's names and order). */
export abstract class WeightBiasModule extends ModuleBase {
  constructor(weight: tf.Variable, bias: tf.Variable) {
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
}
