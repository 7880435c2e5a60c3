// The shapes of this package's public API.

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
  /** WebGPU adapter description (webgpu only). */
  adapter?: string;
  /** One line for logs, e.g. `backend: wasm (SIMD, 1 thread) — auto: tfjs-node not installed`. */
  description: string;
}
