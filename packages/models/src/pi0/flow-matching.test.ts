import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '../rng/random-source.js';
import { setupBackend } from '../test-support.js';
import { eulerSample, flowMatchingLoss, flowMatchingPair, sampleFlowTime } from './flow-matching.js';

describe('flow matching (openpi)', () => {
  beforeAll(async () => {
    await setupBackend();
  });

  it('x_t = t noise + (1 - t) actions, u_t = noise - actions, loss = (u_t - v_t)^2 per element', () => {
    const actions = tf.tensor3d([[[1, 2]], [[-1, 0.5]]]); // [2, 1, 2]
    const noise = tf.tensor3d([[[3, -2]], [[0, 0]]]);
    const { xT, uT } = flowMatchingPair(actions, noise, [0.25, 1]);
    // row 0: 0.25*[3,-2] + 0.75*[1,2] = [1.5, 1]; row 1 (t = 1): the noise itself
    expect(Array.from(xT.dataSync())).toEqual([1.5, 1, 0, 0]);
    expect(Array.from(uT.dataSync())).toEqual([2, -4, 1, -0.5]);
    const v = tf.tensor3d([[[2, -3]], [[0, 0]]]);
    expect(Array.from(flowMatchingLoss(uT, v).dataSync())).toEqual([0, 1, 1, 0.25]);
  });

  it('the exact velocity field carries noise to the actions in 10 Euler steps', () => {
    // v = noise - actions is constant along the straight path, so Euler is exact: x_0 = actions.
    const actions = tf.tensor3d([[[0.3, -0.7]]]);
    const noise = tf.tensor3d([[[1.2, 0.4]]]);
    const u = tf.sub(noise, actions);
    const out = eulerSample(noise, () => u, 10).dataSync();
    expect(out[0]).toBeCloseTo(0.3, 5);
    expect(out[1]).toBeCloseTo(-0.7, 5);
  });

  it('Euler on v(x, t) = x: ten steps of dt = -0.1 multiply by 0.9^10, at times 1.0 .. 0.1', () => {
    const seen: number[] = [];
    const out = eulerSample(
      tf.tensor1d([2]),
      (x, t) => {
        seen.push(t);
        return x;
      },
      10,
    ).dataSync();
    expect(seen.length).toBe(10);
    expect(seen[0]).toBe(1);
    expect(seen[9]).toBeCloseTo(0.1, 6);
    expect(out[0]).toBeCloseTo(2 * Math.pow(0.9, 10), 5);
  });

  it('t = Beta(1.5, 1) * 0.999 + 0.001: inverse-CDF draws, in range, mean 0.6 * 0.999 + 0.001, seeded', () => {
    const t = sampleFlowTime(new SeededRandom(7), 20_000);
    let mean = 0;
    for (const x of t) mean += x / t.length;
    expect(Math.min(...t)).toBeGreaterThanOrEqual(0.001);
    expect(Math.max(...t)).toBeLessThanOrEqual(1);
    expect(mean).toBeCloseTo(0.6 * 0.999 + 0.001, 2); // E[Beta(1.5, 1)] = 1.5 / 2.5
    // CDF check at 0.5: P(Beta <= 0.5) = 0.5^1.5
    const below = t.filter((x) => (x - 0.001) / 0.999 <= 0.5).length / t.length;
    expect(below).toBeCloseTo(Math.pow(0.5, 1.5), 2);
    expect(Array.from(sampleFlowTime(new SeededRandom(7), 3))).toEqual(Array.from(t.subarray(0, 3)));
  });
});
