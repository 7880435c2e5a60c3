// Explicit requests for backends that are not here fail loudly with what to do.
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import {
  BackendInitError,
  BackendNotInstalledError,
  WasmBinaryNotFoundError,
  WebGpuUnavailableError,
  initBackend,
} from './index.js';
import { initBackendWith } from './init-backend.js';
import { importOptional } from './module-loading.js';

function notFound(pkg: string): Error & { code: string } {
  return Object.assign(new Error(`Cannot find package '${pkg}' imported from /somewhere/index.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });
}

describe('explicit backends that are missing', () => {
  it('tfjs-node: not installed, with the npm command', async () => {
    const err = await initBackend({ backend: 'tfjs-node', env: {} }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendNotInstalledError);
    expect((err as Error).message).toContain('not installed; npm i @tensorflow/tfjs-node');
  });

  it('tfjs-node-gpu: not installed, with the npm command', async () => {
    await expect(initBackend({ env: { VLA_BACKEND: 'tfjs-node-gpu' } })).rejects.toThrow(
      /npm i @tensorflow\/tfjs-node-gpu/,
    );
  });

  it('webgpu without an adapter (no GPU, no Vulkan driver): typed error that says what to do', async () => {
    const noAdapter = async () => ({ create: () => ({ requestAdapter: async () => null }), globals: {} });
    const err = await initBackendWith({ backend: 'webgpu', env: {} }, { importOptional, loadWebGpu: noAdapter }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WebGpuUnavailableError);
    expect((err as Error).message).toMatch(/no WebGPU adapter/);
    expect((err as Error).message).toMatch(/libvulkan1/);
    expect((err as Error).message).toMatch(/--backend auto/);
  });

  it('webgpu without the webgpu package: not installed', async () => {
    const err = await initBackendWith(
      { backend: 'webgpu', env: {} },
      { importOptional, loadWebGpu: async () => Promise.reject(notFound('webgpu')) },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendNotInstalledError);
    expect((err as Error).message).toContain('npm i webgpu @tensorflow/tfjs-backend-webgpu');
  });

  it('wasm with a wasmDir that lacks the binaries', async () => {
    await expect(initBackend({ backend: 'wasm', wasmDir: '/nonexistent/dir', env: {} })).rejects.toBeInstanceOf(
      WasmBinaryNotFoundError,
    );
  });

  it('tfjs-node installed but broken: explicit request throws, auto falls back and says so', async () => {
    const broken = async (spec: string): Promise<unknown> => {
      if (spec === '@tensorflow/tfjs-node') throw new Error('libtensorflow.so.2: cannot open shared object file');
      throw notFound(spec);
    };
    const err = await initBackendWith({ backend: 'tfjs-node', env: {} }, { importOptional: broken }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BackendInitError);
    expect((err as Error).message).toMatch(/installed but failed to load: libtensorflow/);
    const info = await initBackendWith({ env: {} }, { importOptional: broken });
    expect(info.name).toBe('wasm');
    expect(info.reason).toMatch(/^auto: tfjs-node-gpu not installed; tfjs-node failed: .*libtensorflow/);
  });

  it('auto prefers tfjs-node when it is installed (simulated: registers a "tensorflow" backend)', async () => {
    const fakeNode = async (spec: string): Promise<unknown> => {
      if (spec !== '@tensorflow/tfjs-node') throw notFound(spec);
      if (tf.findBackendFactory('tensorflow') === null) tf.registerBackend('tensorflow', () => new MathBackendCPU());
      return {};
    };
    const info = await initBackendWith({ env: {} }, { importOptional: fakeNode });
    expect(info.name).toBe('tfjs-node');
    expect(info.tfName).toBe('tensorflow');
    expect(tf.getBackend()).toBe('tensorflow');
    expect(info.description).toBe(
      'backend: tfjs-node (native TensorFlow) — auto: tfjs-node installed; tfjs-node-gpu not installed',
    );
  });

  it('a tfjs-node whose backend landed in another tfjs-core copy is reported, not ignored', async () => {
    const wrongCopy = async (spec: string): Promise<unknown> => {
      if (spec !== '@tensorflow/tfjs-node-gpu') throw notFound(spec);
      return {};
    };
    tf.removeBackend('tensorflow');
    const err = await initBackendWith({ backend: 'tfjs-node-gpu', env: {} }, { importOptional: wrongCopy }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BackendInitError);
    expect((err as Error).message).toMatch(/no backend named "tensorflow" is registered/);
  });
});
