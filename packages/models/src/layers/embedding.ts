// nn.Embedding: a [num, dim] table looked up by integer ids.
import * as tf from '@tensorflow/tfjs-core';
import { ModuleBase } from '@vla-lora/lora-core';
import { InputShapeError } from '../errors.js';
import { oneHotFloat } from '../ops/cross-entropy.js';

export class Embedding extends ModuleBase {
  constructor(weight: tf.Variable) {
    super();
    if (weight.rank !== 2) throw new InputShapeError(`embedding weight must be [num, dim], got [${weight.shape}]`);
    this.registerParameter('weight', weight);
  }

  get weight(): tf.Variable {
    return this.ownParameters()[0]![1];
  }
  get numEmbeddings(): number {
    return this.weight.shape[0]!;
  }
  get embeddingDim(): number {
    return this.weight.shape[1]!;
  }

  /** ids int32 [...] -> [..., dim]. The table gets a gradient only while it is trainable. */
  apply(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') throw new InputShapeError(`embedding ids must be int32, got ${ids.dtype}`);
    return embeddingLookup(this.weight, ids);
  }
}

/**
 * Gathers rows of `table`. Gradient to the table (only when it is a trainable variable): a segment
 * sum of the output gradient by id (tf.unsortedSegmentSum where the backend has it, else a plain
 * one-hot^T x dy matMul).
 */
export function embeddingLookup(table: tf.Variable | tf.Tensor, ids: tf.Tensor): tf.Tensor {
  const [num, dim] = table.shape as [number, number];
  const outShape = [...ids.shape, dim];
  const flatIds = tf.reshape(ids, [-1]) as tf.Tensor1D;
  const wantGrad = table instanceof tf.Variable ? table.trainable : true;
  if (!wantGrad) {
    const y = tf.reshape(tf.gather(table, flatIds), outShape);
    flatIds.dispose();
    return y;
  }
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const w = args[0] as tf.Tensor2D;
    return {
      value: tf.reshape(tf.gather(w, flatIds), outShape),
      gradFunc: (dy: tf.Tensor) => {
        const dy2 = tf.reshape(dy, [-1, dim]) as tf.Tensor2D;
        if (tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined) {
          return [tf.unsortedSegmentSum(dy2, flatIds, num)];
        }
        const oneHotT = tf.transpose(oneHotFloat(flatIds, num)) as tf.Tensor2D; // [num, n]
        return [tf.matMul(oneHotT, dy2)];
      },
    };
  });
  return f(table);
}
