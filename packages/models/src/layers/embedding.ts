// nn.Embedding: a [num, dim] table looked up by integer ids.
import * as tf from '@tensorflow/tfjs-core';
import { ModuleBase } from '@vla-lora/lora-core';
import { InputShapeError } from '../errors.js';
import { oneHotFloat } from '../ops/cross-entropy.js';
import type { RowSource } from '../params/streamed-file.js';

/**
 * nn.Embedding. The table is a resident Variable, or (frozen, from a file) a `RowSource` of which
 * only the rows of the looked-up ids are ever read: the 257,152 × 2048 PaliGemma table is never
 * materialised. A streamed table is listed by `namedStreamedParameters`, not `namedParameters`.
 */
export class Embedding extends ModuleBase {
  private readonly rowSource: RowSource | null;
  private readonly shape: readonly number[];

  constructor(weight: tf.Variable | RowSource) {
    super();
    if (weight instanceof tf.Variable) {
      if (weight.rank !== 2) throw new InputShapeError(`embedding weight must be [num, dim], got [${weight.shape}]`);
      this.registerParameter('weight', weight);
      this.rowSource = null;
      this.shape = weight.shape;
    } else {
      this.rowSource = weight;
      this.shape = weight.shape;
      const rows = weight;
      this.registerStreamed('weight', {
        shape: rows.shape,
        materialize: () => {
          throw new InputShapeError(
            'a streamed embedding table is never materialised whole; look rows up with apply(ids)',
          );
        },
      });
    }
  }

  /** Rows are gathered on demand; the table itself never enters the backend. */
  override materializeStreamed(): void {}

  get weight(): tf.Variable {
    return this.parameter('weight')!;
  }
  get numEmbeddings(): number {
    return this.shape[0]!;
  }
  get embeddingDim(): number {
    return this.shape[1]!;
  }

  /** ids int32 [...] -> [..., dim]. The table gets a gradient only while it is trainable. */
  apply(ids: tf.Tensor): tf.Tensor {
    if (ids.dtype !== 'int32') throw new InputShapeError(`embedding ids must be int32, got ${ids.dtype}`);
    if (this.rowSource !== null) {
      // sync-read-ok: int32 ids made from host arrays keep their values host-side on every backend (webgpu too)
      const rows = this.rowSource.gatherRows(ids.dataSync() as Int32Array);
      return tf.tensor(rows, [...ids.shape, this.embeddingDim], 'float32');
    }
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
