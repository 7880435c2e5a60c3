// Per-buffer limits: a tensor larger than one WebGPU buffer is refused by name before allocation.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../test/backend.js';
import { assertBufferFits, bufferLimits, type BufferLimits } from './buffer-limits.js';
import { BufferTooLargeError } from './errors.js';
import { Linear } from './linear.js';

let backend = '';
beforeAll(async () => {
  backend = await useBackend('wasm');
});

// llvmpipe's limits (Mesa 25 lavapipe, as Dawn reports them on this machine)
const LLVMPIPE: BufferLimits = { backend: 'webgpu', maxBindingBytes: 128 * 2 ** 20, maxBufferBytes: 2 ** 31 };

describe('assertBufferFits', () => {
  it("refuses PaliGemma's 257,152 x 2048 float32 embedding (1.96 GiB) on a 128 MiB binding limit, naming it", () => {
    let err: unknown;
    try {
      assertBufferFits('embed_tokens.weight', [257152, 2048], 'float32', LLVMPIPE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BufferTooLargeError);
    const e = err as BufferTooLargeError;
    expect(e.bytes).toBe(257152 * 2048 * 4);
    expect(e.limitBytes).toBe(128 * 2 ** 20);
    expect(e.message).toContain("'embed_tokens.weight' [257152, 2048] float32 is 1.96 GiB");
    expect(e.message).toContain('maxStorageBufferBindingSize');
    expect(e.message).toContain('VLA_BACKEND=wasm');
  });

  it('passes tensors up to the limit, and everything where the backend has no per-buffer limit', () => {
    expect(() => assertBufferFits('w', [32 * 2 ** 20], 'float32', LLVMPIPE)).not.toThrow(); // exactly 128 MiB
    expect(() => assertBufferFits('w', [32 * 2 ** 20 + 1], 'float32', LLVMPIPE)).toThrow(BufferTooLargeError);
    expect(() => assertBufferFits('w', [257152, 2048], 'float32', null)).not.toThrow();
  });

  it('the smaller of maxBufferSize and maxStorageBufferBindingSize is the limit', () => {
    const l: BufferLimits = { backend: 'webgpu', maxBindingBytes: 2 ** 32, maxBufferBytes: 2 ** 30 };
    expect(() => assertBufferFits('w', [2 ** 28 + 1], 'float32', l)).toThrow(/maxBufferSize/);
  });
});

describe('bufferLimits on the active backend', () => {
  it('wasm/cpu have none; webgpu reports the adapter limits and Linear refuses an oversized weight before allocating', () => {
    const limits = bufferLimits();
    if (backend !== 'webgpu') {
      expect(limits).toBeNull();
      return;
    }
    expect(limits).not.toBeNull();
    expect(limits!.maxBindingBytes).toBeGreaterThan(0);
    const before = tf.memory().numBytes;
    // out x in floats > the binding limit
    const out = Math.floor(limits!.maxBindingBytes / 4 / 1024) + 1;
    expect(() => new Linear(1024, out)).toThrow(BufferTooLargeError);
    expect(tf.memory().numBytes).toBe(before);
  });
});
