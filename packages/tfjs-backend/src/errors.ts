// Typed errors of @vla-lora/tfjs-backend. Every message says what went wrong and what to do.

/** Base class of every error this package throws. */
export class TfjsBackendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The flag or `VLA_BACKEND` names a backend this package does not know. */
export class UnknownBackendError extends TfjsBackendError {
  constructor(
    readonly value: string,
    readonly source: 'flag' | 'env',
    readonly known: readonly string[],
  ) {
    super(
      `unknown tfjs backend "${value}" (from ${source === 'env' ? 'the VLA_BACKEND environment variable' : 'the backend option/flag'}); ` +
        `use one of: ${known.join(', ')}`,
    );
  }
}

/** An explicitly requested backend whose npm package is not installed. */
export class BackendNotInstalledError extends TfjsBackendError {
  constructor(
    readonly backend: string,
    readonly packages: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(
      `tfjs backend "${backend}" was requested but ${packages.join(' + ')} ${packages.length > 1 ? 'are' : 'is'} not installed; ` +
        `npm i ${packages.join(' ')} (or pick another backend: --backend auto|wasm|cpu, VLA_BACKEND=...)`,
      options,
    );
  }
}

/** WebGPU was requested but no adapter (GPU + driver) is available. */
export class WebGpuUnavailableError extends TfjsBackendError {
  constructor(detail: string, options?: { cause?: unknown }) {
    super(
      `tfjs backend "webgpu" was requested but ${detail}. WebGPU in Node runs through Dawn (the "webgpu" package) on Vulkan/Metal/D3D12: ` +
        'install the GPU driver and libvulkan1 (Linux; set VK_DRIVER_FILES to the vendor ICD if needed, see docs/gpu.md), ' +
        'or run on the CPU with --backend auto (VLA_BACKEND=auto).',
      options,
    );
  }
}

/** The wasm backend's .wasm binaries could not be found. */
export class WasmBinaryNotFoundError extends TfjsBackendError {
  constructor(readonly searched: readonly string[]) {
    super(
      `cannot find tfjs-backend-wasm's .wasm binaries (looked in: ${searched.join(', ') || 'nowhere'}); ` +
        'install @tensorflow/tfjs-backend-wasm next to your program, or copy its dist/*.wasm files next to your bundle, ' +
        'or pass wasmDir / set VLA_WASM_DIR to the folder that holds tfjs-backend-wasm-simd.wasm',
    );
  }
}

/** The backend package loaded but tfjs could not initialise it. */
export class BackendInitError extends TfjsBackendError {
  constructor(
    readonly backend: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `tfjs backend "${backend}" failed to initialise: ${detail}; pick another backend with --backend or VLA_BACKEND (auto|wasm|cpu)`,
      options,
    );
  }
}
