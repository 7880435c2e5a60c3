// Public API of @vla-lora/tfjs-backend.
export { initBackend } from './init-backend.js';
export { describeBackend } from './describe.js';
export { resolveBackendRequest, type ResolvedRequest } from './request.js';
export { installTfjsCoreResolveHook, registerAllGradients } from './gradients.js';
export { locateWasmDir, wasmDirCandidates } from './wasm-dir.js';
export { BLAS_MULTITHREAD_MIN_MACS, DEFAULT_BLAS_MIN_MACS } from './blas/gemm-kernels.js';
export {
  BLAS_CANDIDATES,
  type BlasLibrary,
  type BlasLoadResult,
  type BlasUnavailable,
  type BlasUnavailableCode,
  type LoadBlasOptions,
  loadBlas,
} from './blas/load.js';
export {
  BACKEND_REQUESTS,
  type BackendInfo,
  type BackendName,
  type BackendRequest,
  type GemmInfo,
  type InitBackendOptions,
} from './types.js';
export {
  BackendInitError,
  BackendNotInstalledError,
  TfjsBackendError,
  UnknownBackendError,
  WasmBinaryNotFoundError,
  WebGpuUnavailableError,
} from './errors.js';
