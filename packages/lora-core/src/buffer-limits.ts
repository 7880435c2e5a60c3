// Per-buffer limits of the active tfjs backend. WebGPU binds each tensor as one storage buffer, so a
// tensor larger than the adapter's maxStorageBufferBindingSize (llvmpipe: 128 MiB; real GPUs 2-4 GiB)
// or maxBufferSize cannot be used in a kernel; tfjs-backend-webgpu would fail deep inside Dawn (or
// silently compute garbage) long after the allocation. This refuses such a tensor up front, by name,
// before any memory is allocated. Other backends (wasm, cpu) have no per-buffer limit here.
import * as tf from '@tensorflow/tfjs-core';
import { BufferTooLargeError } from './errors.js';

export interface BufferLimits {
  /** The backend the limits come from (tf.getBackend()). */
  backend: string;
  /** The largest tensor, in bytes, one kernel may bind (WebGPU maxStorageBufferBindingSize). */
  maxBindingBytes: number;
  /** The largest buffer, in bytes, the device may create (WebGPU maxBufferSize). */
  maxBufferBytes: number;
}

interface WebGpuDeviceLike {
  limits?: { maxStorageBufferBindingSize?: number; maxBufferSize?: number };
}

/** The active backend's per-buffer limits, or null where it has none (wasm, cpu, node). */
export function bufferLimits(): BufferLimits | null {
  const name = tf.getBackend();
  if (name !== 'webgpu') return null;
  const device = (tf.backend() as unknown as { device?: WebGpuDeviceLike }).device;
  const l = device?.limits;
  if (!l || typeof l.maxStorageBufferBindingSize !== 'number') return null;
  return {
    backend: name,
    maxBindingBytes: l.maxStorageBufferBindingSize,
    maxBufferBytes: typeof l.maxBufferSize === 'number' ? l.maxBufferSize : l.maxStorageBufferBindingSize,
  };
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 4 };

function human(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GiB`;
  return `${(bytes / 2 ** 20).toFixed(2)} MiB`;
}

/**
 * Throws BufferTooLargeError when a tensor of this shape cannot be one buffer on the active backend
 * (call it before allocating). `limits` defaults to the active backend's.
 */
export function assertBufferFits(
  name: string,
  shape: readonly number[],
  dtype: 'float32' | 'int32' | 'bool' = 'float32',
  limits: BufferLimits | null = bufferLimits(),
): void {
  if (limits === null) return;
  const bytes = shape.reduce((a, b) => a * b, 1) * (BYTES[dtype] ?? 4);
  const limit = Math.min(limits.maxBindingBytes, limits.maxBufferBytes);
  if (bytes <= limit) return;
  const which = limits.maxBindingBytes <= limits.maxBufferBytes ? 'maxStorageBufferBindingSize' : 'maxBufferSize';
  throw new BufferTooLargeError(
    `'${name}' [${shape.join(', ')}] ${dtype} is ${human(bytes)} (${bytes} bytes), but the ${limits.backend} device binds at most ` +
      `${human(limit)} (${limit} bytes, ${which}) per tensor; refused before allocating. Run this model on a backend without ` +
      `that limit (--backend wasm/cpu, VLA_BACKEND=wasm) or on a GPU whose adapter allows larger buffers, or use a smaller config`,
    name,
    bytes,
    limit,
  );
}
