import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { maxAbsDiff, setupBackend } from '../test-support.js';
import { embeddingLookup } from './embedding.js';

describe('embeddingLookup', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  it('gathers rows, and a trainable table gets the per-id sum of the output gradient', async () => {
    const table = tf.variable(
      tf.tensor2d([
        [1, 2],
        [3, 4],
        [5, 6],
      ]),
      true,
    );
    const ids = tf.tensor2d(
      [
        [2, 0],
        [2, 2],
      ],
      [2, 2],
      'int32',
    );
    expect(Array.from(await embeddingLookup(table, ids).data())).toEqual([5, 6, 1, 2, 5, 6, 5, 6]);
    const w = tf.tensor3d([
      [
        [1, 10],
        [2, 20],
      ],
      [
        [3, 30],
        [4, 40],
      ],
    ]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(embeddingLookup(table, ids), w)) as tf.Scalar, [table]);
    // id 0 once (w = [2, 20]), id 1 never, id 2 three times ([1,10] + [3,30] + [4,40])
    expect(maxAbsDiff(await grads[table.name]!.data(), [2, 20, 0, 0, 8, 80])).toBe(0);
  });

  it('a frozen table is read without a gradient path', async () => {
    const table = tf.variable(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
      false,
    );
    const x = tf.variable(tf.scalar(2), true);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(embeddingLookup(table, tf.tensor1d([1], 'int32')), x)) as tf.Scalar,
      [x],
    );
    expect((await grads[x.name]!.data())[0]).toBe(7);
  });
});
