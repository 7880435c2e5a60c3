// openpi's flow-matching pieces (pi0_pytorch.py), with every random draw from an explicit source.
import * as tf from '@tensorflow/tfjs-core';
import { InputShapeError } from '../errors.js';
import { normalArray, type RandomSource } from '../rng/random-source.js';

const f32 = Math.fround;

/**
 * openpi's sample_time: t = Beta(1.5, 1) * 0.999 + 0.001, float32. Beta(a, 1) has CDF t^a, so it is
 * drawn by inverse CDF: t = u^(1/a) with u ~ U[0, 1) (deterministic given the source; torch's
 * Beta sampler draws other variates, so the same seed does not give torch's numbers).
 */
export function sampleFlowTime(rng: RandomSource, batch: number, alpha = 1.5): Float32Array {
  const out = new Float32Array(batch);
  for (let i = 0; i < batch; i++) {
    const beta = f32(Math.pow(rng.uniform(), 1 / alpha));
    out[i] = f32(f32(beta * f32(0.999)) + f32(0.001));
  }
  return out;
}

/** N(0, 1) noise of `shape` as a float32 tensor. */
export function sampleNoise(rng: RandomSource, shape: number[]): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(normalArray(rng, n), shape, 'float32');
}

/**
 * x_t = t * noise + (1 - t) * actions and the target velocity u_t = noise - actions, for actions and
 * noise [B, H, A] and times [B] (openpi's forward, time broadcast over [H, A]).
 */
export function flowMatchingPair(
  actions: tf.Tensor,
  noise: tf.Tensor,
  times: ArrayLike<number>,
): { xT: tf.Tensor; uT: tf.Tensor } {
  if (actions.rank !== 3 || noise.shape.join() !== actions.shape.join()) {
    throw new InputShapeError(`actions and noise must both be [B, H, A]; got [${actions.shape}] and [${noise.shape}]`);
  }
  const b = actions.shape[0]!;
  if (times.length !== b) throw new InputShapeError(`${times.length} times for a batch of ${b}`);
  return tf.tidy(() => {
    const t = tf.tensor3d(Float32Array.from(times), [b, 1, 1]);
    const xT = tf.add(tf.mul(t, noise), tf.mul(tf.sub(1, t), actions));
    const uT = tf.sub(noise, actions);
    return { xT, uT };
  });
}

/** Per-element squared error (F.mse_loss(u_t, v_t, reduction='none')). */
export function flowMatchingLoss(uT: tf.Tensor, vT: tf.Tensor): tf.Tensor {
  return tf.squaredDifference(uT, vT);
}

/**
 * openpi's Euler sampler: x starts at `noise` (time 1) and steps x += dt * v(x, t) with dt = -1/numSteps
 * while t >= -dt/2, time kept in float32 exactly as openpi's loop keeps it. `velocity` gets the
 * current x and the float32 time and returns v (same shape as x); intermediate tensors are disposed.
 */
export function eulerSample(
  noise: tf.Tensor,
  velocity: (x: tf.Tensor, t: number) => tf.Tensor,
  numSteps = 10,
): tf.Tensor {
  if (!Number.isInteger(numSteps) || numSteps <= 0)
    throw new InputShapeError(`numSteps must be a positive integer, got ${numSteps}`);
  const dt = f32(-1 / numSteps);
  const stop = f32(-dt / 2);
  let x = tf.clone(noise);
  let time = f32(1);
  while (time >= stop) {
    const t = time;
    const next = tf.tidy(() => tf.add(x, tf.mul(velocity(x, t), dt)));
    x.dispose();
    x = next;
    time = f32(time + dt);
  }
  return x;
}
