import type * as tf from '@tensorflow/tfjs-core';
import { ModuleBase, type LinearLike } from '@vla-lora/lora-core';
import { geluTanhGate } from '../ops/activations.js';

/** transformers' GemmaMLP: down_proj(gelu_tanh(gate_proj(x)) * up_proj(x)). */
export class GemmaMLP extends ModuleBase {
  constructor(gate: LinearLike, up: LinearLike, down: LinearLike) {
    super();
    this.registerChild('gate_proj', gate);
    this.registerChild('up_proj', up);
    this.registerChild('down_proj', down);
  }
  apply(x: tf.Tensor): tf.Tensor {
    const gate = this.child<LinearLike>('gate_proj').apply(x);
    const up = this.child<LinearLike>('up_proj').apply(x);
    return this.child<LinearLike>('down_proj').apply(geluTanhGate(gate, up));
  }
}
