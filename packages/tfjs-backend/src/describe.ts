// The one line a log shows about the backend.
import type { BackendInfo } from './types.js';

/** e.g. `backend: wasm (SIMD, 1 thread) — auto: tfjs-node-gpu, tfjs-node not installed`. */
export function describeBackend(info: Omit<BackendInfo, 'description'>): string {
  const details: string[] = [];
  if (info.name === 'webgpu') details.push(info.adapter ?? 'GPU');
  else if (info.name === 'tfjs-node' || info.name === 'tfjs-node-gpu') details.push('native TensorFlow');
  else details.push(info.simd ? 'SIMD' : 'no SIMD');
  if (info.threads !== null && info.name !== 'webgpu')
    details.push(`${info.threads} thread${info.threads === 1 ? '' : 's'}`);
  return `backend: ${info.name} (${details.join(', ')}) — ${info.reason}`;
}
