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
  const wantGrad = table instanceof tf.Variable ? table.trainable : true;
  if (!wantGrad) return tf.tidy(() => tf.reshape(tf.gather(table, tf.reshape(ids, [-1]) as tf.Tensor1D), outShape));
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const w = args[0] as tf.Tensor2D;
    const save = args[1] as tf.GradSaveFunc;
    // The ids are saved with the forward: a tidy() around the forward may dispose the caller's copy
    // before the backward runs.
    const idsFlat = tf.reshape(ids, [-1]) as tf.Tensor1D;
    save([idsFlat]);
    return {
      value: tf.reshape(tf.gather(w, idsFlat), outShape),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const savedIds = saved[0] as tf.Tensor1D;
        const dy2 = tf.reshape(dy, [-1, dim]) as tf.Tensor2D;
        if (tf.getKernel('UnsortedSegmentSum', tf.getBackend()) !== undefined) {
          return [tf.unsortedSegmentSum(dy2, savedIds, num)];
        }
        const oneHotT = tf.transpose(oneHotFloat(savedIds, num)) as tf.Tensor2D; // [num, n]
        return [tf.matMul(oneHotT, dy2)];
      },
    };
  });
  return f(table);
}
