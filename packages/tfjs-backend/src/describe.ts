// The one line a log shows about the backend.
import type { BackendInfo } from './types.js';

/**
 * e.g. `backend: wasm (SIMD, 1 thread; GEMM: OpenBLAS 0.3.21 (SkylakeX), 2 threads via libopenblas.so.0) —
 * auto: tfjs-node-gpu, tfjs-node not installed`.
 */
export function describeBackend(info: Omit<BackendInfo, 'description'>): string {
  const details: string[] = [];
  if (info.name === 'webgpu') details.push(info.adapter ?? 'GPU');
  else if (info.name === 'tfjs-node' || info.name === 'tfjs-node-gpu') details.push('native TensorFlow');
  else details.push(info.simd ? 'SIMD' : 'no SIMD');
  if (info.threads !== null && info.name !== 'webgpu')
    details.push(`${info.threads} thread${info.threads === 1 ? '' : 's'}`);
  let gemm = '';
  if (info.gemm) {
    const g = info.gemm;
    if (g.kernel === 'blas') {
      const t = g.threads === null ? '' : `, ${g.threads} thread${g.threads === 1 ? '' : 's'}`;
      gemm = `; GEMM: ${g.vendor}${t} via ${g.library}`;
    } else gemm = `; GEMM: XNNPACK (no BLAS: ${g.fallback?.detail ?? 'not loaded'})`;
  }
  return `backend: ${info.name} (${details.join(', ')}${gemm}) — ${info.reason}`;
}
