// Kernel overrides for tfjs-backend-wasm 4.22 (pinned).
import * as tf from '@tensorflow/tfjs-core';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

/**
 * tfjs-backend-wasm's Identity kernel copies its input into a new buffer. tfjs-core runs Identity
 * for every `clone()`, and clones every tensor a kernel saves for its gradient, so in training each
 * saved input is held twice. Tensors are immutable, so the clone can share the buffer and count a
 * reference, as tfjs-backend-cpu's Identity and tfjs-backend-wasm's own Reshape do.
 */
export function shareIdentityBuffers(): void {
  const config = tf.getKernel('Identity', 'wasm');
  if (config === undefined) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({
    kernelName: 'Identity',
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const x = inputs['x'] as tf.TensorInfo;
      if (x.dtype === 'string') return config.kernelFunc({ inputs, backend, attrs: {} }) as tf.TensorInfo;
      (backend as unknown as RefCountingBackend).incRef(x.dataId);
      return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
    },
  });
}
