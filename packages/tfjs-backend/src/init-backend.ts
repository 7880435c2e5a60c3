// initBackend: resolve the request (flag > VLA_BACKEND > auto), import and initialise the backend,
// register gradients, and say which backend runs and why.
import * as tf from '@tensorflow/tfjs-core';
import { DEFAULT_BLAS_MIN_MACS, installBlasGemm } from './blas/gemm-kernels.js';
import { type BlasLoadResult, type LoadBlasOptions, loadBlas } from './blas/load.js';
import { describeBackend } from './describe.js';
import { installGeluTanhGate } from './fast-gelu-gate.js';
import { installFastTanh } from './fast-tanh.js';
import { BackendInitError, BackendNotInstalledError, TfjsBackendError, WebGpuUnavailableError } from './errors.js';
import { registerAllGradients } from './gradients.js';
import { importOptional, isPackageNotFound, type ModuleImporter } from './module-loading.js';
import { resolveBackendRequest, type ResolvedRequest } from './request.js';
import type { BackendInfo, BackendName, GemmInfo, InitBackendOptions } from './types.js';
import { cloneWithoutIdentityKernel, shareIdentityBuffers, sliceWithoutInputCopies } from './wasm-kernels.js';
import { locateWasmDir } from './wasm-dir.js';
import { probeWebGpu } from './webgpu.js';

type Picked = Omit<BackendInfo, 'description' | 'reason' | 'requested' | 'source'>;

/** Seams for tests: how optional packages and `webgpu` are imported. Not part of the public API. */
export interface InitDeps {
  importOptional: ModuleImporter;
  loadWebGpu?: () => Promise<unknown>;
  moduleUrl?: string;
  /** How the BLAS for the wasm GEMM is found (default: loadBlas, koffi + system OpenBLAS). */
  loadBlas?: (opts: LoadBlasOptions) => Promise<BlasLoadResult>;
}

const NODE_PACKAGES = { 'tfjs-node-gpu': '@tensorflow/tfjs-node-gpu', 'tfjs-node': '@tensorflow/tfjs-node' } as const;

async function activate(backend: BackendName, tfName: string): Promise<void> {
  if (tf.findBackendFactory(tfName) === null) {
    throw new BackendInitError(
      backend,
      `no backend named "${tfName}" is registered in this copy of @tensorflow/tfjs-core (${tf.version_core}); install a version of the backend package that matches it`,
    );
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(tfName);
  } catch (err) {
    throw new BackendInitError(backend, String((err as Error).message ?? err), { cause: err });
  }
  if (!ok) {
    throw new BackendInitError(backend, 'tf.setBackend returned false (tfjs printed the cause above)');
  }
  await tf.ready();
}

async function initNode(kind: 'tfjs-node' | 'tfjs-node-gpu', deps: InitDeps): Promise<Picked> {
  const pkg = NODE_PACKAGES[kind];
  try {
    await deps.importOptional(pkg);
  } catch (err) {
    if (isPackageNotFound(err, pkg)) throw new BackendNotInstalledError(kind, [pkg], { cause: err });
    throw new BackendInitError(
      kind,
      `${pkg} is installed but failed to load: ${String((err as Error).message ?? err)}`,
      { cause: err },
    );
  }
  await activate(kind, 'tensorflow');
  return { name: kind, tfName: 'tensorflow', simd: null, threads: null, gemm: null };
}

async function initWasm(
  opts: InitBackendOptions,
  env: Record<string, string | undefined>,
  deps: InitDeps,
): Promise<Picked> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const dir = locateWasmDir({ wasmDir: opts.wasmDir, env, moduleUrl: deps.moduleUrl });
  if (tf.findBackend('wasm') === null) {
    // setWasmPaths throws once the wasm module was initialised; only call it before that.
    wasm.setWasmPaths(dir.endsWith('/') ? dir : `${dir}/`);
  }
  // Emscripten's Node glue reads the CommonJS free variable __dirname while it starts; an ESM bundle
  // has none. Give it the binaries' folder for the duration of the start, then take it away again.
  const g = globalThis as { __dirname?: string };
  const lent = typeof g.__dirname === 'undefined';
  if (lent) g.__dirname = dir;
  try {
    await activate('wasm', 'wasm');
  } finally {
    if (lent) delete g.__dirname;
  }
  shareIdentityBuffers();
  cloneWithoutIdentityKernel();
  installFastTanh();
  installGeluTanhGate();
  sliceWithoutInputCopies();
  const gemm = await setUpGemm(opts, env, deps);
  const simd = Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'));
  return { name: 'wasm', tfName: 'wasm', simd, threads: wasm.getThreadsCount(), wasmDir: dir, gemm };
}

/** Routes the wasm matMul kernels to a system BLAS when one loads, else keeps XNNPACK; says which. */
async function setUpGemm(
  opts: InitBackendOptions,
  env: Record<string, string | undefined>,
  deps: InitDeps,
): Promise<GemmInfo> {
  const minMacs = opts.blasMinMacs ?? DEFAULT_BLAS_MIN_MACS;
  let loaded: BlasLoadResult;
  try {
    loaded = await (deps.loadBlas ?? loadBlas)({ blas: opts.blas, threads: opts.blasThreads, env });
  } catch (err) {
    // a loader must not throw; if one does, the backend still runs on XNNPACK and says why
    loaded = { ok: false, why: { code: 'library-not-found', detail: `BLAS loader threw: ${String(err)}` } };
  }
  if (!loaded.ok) {
    installBlasGemm(null, minMacs);
    return { kernel: 'xnnpack', library: null, vendor: 'XNNPACK', threads: 1, minMacs, fallback: loaded.why };
  }
  const { library } = loaded;
  installBlasGemm(library, minMacs);
  return {
    kernel: 'blas',
    library: library.path,
    vendor: library.vendor,
    threads: library.threads,
    minMacs,
    fallback: null,
  };
}

async function initCpu(): Promise<Picked> {
  await import('@tensorflow/tfjs-backend-cpu');
  await activate('cpu', 'cpu');
  return { name: 'cpu', tfName: 'cpu', simd: false, threads: 1, gemm: null };
}

async function initWebGpu(deps: InitDeps): Promise<Picked> {
  const probe = await probeWebGpu(deps.loadWebGpu);
  try {
    await import('@tensorflow/tfjs-backend-webgpu');
  } catch (err) {
    if (isPackageNotFound(err, '@tensorflow/tfjs-backend-webgpu')) {
      throw new BackendNotInstalledError('webgpu', ['@tensorflow/tfjs-backend-webgpu'], { cause: err });
    }
    throw new WebGpuUnavailableError(
      `@tensorflow/tfjs-backend-webgpu failed to load (${String((err as Error).message ?? err)})`,
      { cause: err },
    );
  }
  await activate('webgpu', 'webgpu');
  return { name: 'webgpu', tfName: 'webgpu', simd: false, threads: null, gemm: null, adapter: probe.description };
}

function explicitReason(req: ResolvedRequest): string {
  return req.source === 'env' ? `VLA_BACKEND=${req.requested}` : 'requested by --backend';
}

async function initAuto(
  opts: InitBackendOptions,
  env: Record<string, string | undefined>,
  deps: InitDeps,
): Promise<{ part: Picked; reason: string }> {
  const skipped: string[] = [];
  const missing: string[] = [];
  for (const kind of ['tfjs-node-gpu', 'tfjs-node'] as const) {
    try {
      const part = await initNode(kind, deps);
      const why = missing.length ? `; ${missing.join(', ')} not installed` : '';
      return { part, reason: `auto: ${kind} installed${why}${skipped.length ? `; ${skipped.join('; ')}` : ''}` };
    } catch (err) {
      if (err instanceof BackendNotInstalledError) missing.push(kind);
      else if (err instanceof TfjsBackendError) skipped.push(`${kind} failed: ${err.message}`);
      else throw err;
    }
  }
  const notes = [`${missing.join(', ')} not installed`, ...skipped];
  try {
    const part = await initWasm(opts, env, deps);
    return { part, reason: `auto: ${notes.join('; ')}` };
  } catch (err) {
    if (!(err instanceof TfjsBackendError)) throw err;
    notes.push(`wasm unavailable: ${err.message}`);
  }
  const part = await initCpu();
  return { part, reason: `auto: ${notes.join('; ')}` };
}

let current: Promise<BackendInfo> | undefined;

/** Implementation behind initBackend with injectable module loading (tests). */
export async function initBackendWith(opts: InitBackendOptions, deps: InitDeps): Promise<BackendInfo> {
  const env = opts.env ?? process.env;
  const req = resolveBackendRequest(opts.backend, env);
  if (opts.registerGradients !== false) await registerAllGradients();
  let part: Picked;
  let reason: string;
  switch (req.requested) {
    case 'auto':
      ({ part, reason } = await initAuto(opts, env, deps));
      break;
    case 'wasm':
      part = await initWasm(opts, env, deps);
      reason = explicitReason(req);
      break;
    case 'cpu':
      part = await initCpu();
      reason = explicitReason(req);
      break;
    case 'webgpu':
      part = await initWebGpu(deps);
      reason = explicitReason(req);
      break;
    case 'tfjs-node':
    case 'tfjs-node-gpu':
      part = await initNode(req.requested, deps);
      reason = explicitReason(req);
      break;
  }
  const info: Omit<BackendInfo, 'description'> = { ...part, requested: req.requested, source: req.source, reason };
  return { ...info, description: describeBackend(info) };
}

/**
 * Picks and initialises the tfjs backend: `opts.backend` wins, else `VLA_BACKEND`, else `auto`
 * (tfjs-node-gpu → tfjs-node → wasm → cpu; never webgpu). Also registers all tfjs-core gradients.
 * An explicitly requested backend that is missing or fails throws a typed error that says what to do.
 * Calls are serialised; a later call may switch backends.
 */
export function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  const run = (current ?? Promise.resolve())
    .catch(() => undefined)
    .then(() => initBackendWith(opts, { importOptional }));
  current = run;
  return run;
}
