// The shapes of this package's public API.
import type { BlasUnavailableCode } from './blas/load.js';

/** A concrete backend this package can initialise. */
export type BackendName = 'wasm' | 'cpu' | 'webgpu' | 'tfjs-node' | 'tfjs-node-gpu';

/** What a caller may ask for: a concrete backend, or `auto`. */
export type BackendRequest = 'auto' | BackendName;

export const BACKEND_REQUESTS: readonly BackendRequest[] = [
  'auto',
  'wasm',
  'cpu',
  'webgpu',
  'tfjs-node',
  'tfjs-node-gpu',
];

export interface InitBackendOptions {
  /** Wins over `VLA_BACKEND`; default `auto`. */
  backend?: BackendRequest | string;
  /** Environment to read `VLA_BACKEND` / `VLA_WASM_DIR` from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Folder holding tfjs-backend-wasm's `.wasm` files (default: located through the installed package). */
  wasmDir?: string;
  /** Register every tfjs-core gradient (default true; training needs it). */
  registerGradients?: boolean;
  /**
   * wasm only: the GEMM under matMul. `auto` (default): the system OpenBLAS through the optional `koffi`
   * package, else XNNPACK; `off`: XNNPACK; a path: that CBLAS library. Wins over `VLA_BLAS`.
   */
  blas?: string;
  /** GEMM threads (default: `VLA_BLAS_THREADS`, else `OPENBLAS_NUM_THREADS`, else every available core). */
  blasThreads?: number;
  /** Products with fewer multiply-adds (batch·M·N·K) stay on XNNPACK (default: `DEFAULT_BLAS_MIN_MACS`). */
  blasMinMacs?: number;
}

/** Which GEMM the wasm backend's matMul (BatchMatMul, _FusedMatMul) runs on. */
export interface GemmInfo {
  /** `blas`: a system CBLAS through koffi; `xnnpack`: tfjs-backend-wasm's own kernel. */
  kernel: 'blas' | 'xnnpack';
  /** The library loaded (blas only), e.g. `libopenblas.so.0`. */
  library: string | null;
  /** e.g. `OpenBLAS 0.3.21 (SkylakeX)` or `XNNPACK`. */
  vendor: string;
  /** Threads the GEMM runs on (null where the library cannot say). */
  threads: number | null;
  /** Products below this many multiply-adds use XNNPACK even when BLAS is loaded. */
  minMacs: number;
  /** Why XNNPACK (blas unavailable: a code to branch on and a sentence); null when BLAS runs. */
  fallback: { code: BlasUnavailableCode; detail: string } | null;
}

export interface BackendInfo {
  /** The backend now active. */
  name: BackendName;
  /** tfjs's own name for it (`tensorflow` for tfjs-node). */
  tfName: string;
  /** What was asked for and where that came from. */
  requested: BackendRequest;
  source: 'flag' | 'env' | 'default';
  /** Why this backend: the request, or what `auto` found missing. */
  reason: string;
  /** wasm: whether the SIMD binary runs; false for cpu/webgpu; null where not applicable (tfjs-node). */
  simd: boolean | null;
  /** CPU threads the backend computes with; null where the native runtime decides (tfjs-node). */
  threads: number | null;
  /** Where the wasm binaries were loaded from (wasm only). */
  wasmDir?: string;
  /** The GEMM under matMul (wasm only; null for every other backend). */
  gemm: GemmInfo | null;
  /** WebGPU adapter description (webgpu only). */
  adapter?: string;
  /** One line for logs, e.g. `backend: wasm (SIMD, 1 thread; GEMM: OpenBLAS 0.3.21 (SkylakeX), 2 threads) — auto: …`. */
  description: string;
}
