// WebGPU through Dawn, on whatever adapter this machine has: a GPU, or Mesa's lavapipe (llvmpipe)
// software Vulkan driver (Debian bookworm-backports' Mesa 25; CI installs it). Skipped, with the
// reason printed, where Dawn finds no adapter.
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { initBackend } from './index.js';
import { probeWebGpu } from './webgpu.js';

const adapter = await probeWebGpu()
  .then((p) => p.description)
  .catch((err: unknown) => {
    console.log(`webgpu tests skipped: ${(err as Error).message}`);
    return null;
  });

describe.skipIf(adapter === null)(`webgpu on ${adapter ?? 'no adapter'}`, () => {
  it('initialises, names the adapter, and computes a matMul and its gradient (read asynchronously)', async () => {
    const info = await initBackend({ backend: 'webgpu', env: {} });
    expect(info.name).toBe('webgpu');
    expect(info.description).toContain(adapter!.split(' ')[0]!);
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    expect(Array.from(await tf.matMul(a, a).data())).toEqual([7, 10, 15, 22]);
    const g = tf.grad((x: tf.Tensor) => tf.sum(tf.matMul(x, x)))(a);
    // d/dX sum(X X) = 1 X^T + X^T 1: [[1+2+1+3, 3+4+1+3], ...]
    const ones = tf.ones([2, 2]);
    const expected = tf.add(tf.matMul(ones, a, false, true), tf.matMul(a, ones, true, false));
    expect(Array.from(await g.data())).toEqual(Array.from(await expected.data()));
  });
});
