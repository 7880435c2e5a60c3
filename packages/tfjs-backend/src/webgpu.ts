// WebGPU in Node through Dawn (the `webgpu` package). tfjs-backend-webgpu registers itself only if
// navigator.gpu exists when it is imported, so the globals are installed first.
import { BackendNotInstalledError, WebGpuUnavailableError } from './errors.js';
import { isPackageNotFound } from './module-loading.js';

interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: unknown): Promise<GpuAdapterLike | null>;
}
interface WebGpuModule {
  create(options: string[]): GpuLike;
  globals: object;
}

export interface WebGpuProbe {
  gpu: GpuLike;
  adapter: GpuAdapterLike;
  description: string;
}

function describeAdapter(a: GpuAdapterLike): string {
  const i = a.info ?? {};
  const parts = [i.vendor, i.architecture, i.device, i.description].filter(
    (s): s is string => typeof s === 'string' && s.length > 0,
  );
  return (parts.join(' ') || 'unnamed adapter') + (a.isFallbackAdapter ? ' (software fallback)' : '');
}

/** Loads `webgpu`, creates the Dawn GPU and asks for an adapter; throws typed errors when there is none. */
export async function probeWebGpu(loadWebGpu: () => Promise<unknown> = () => import('webgpu')): Promise<WebGpuProbe> {
  let mod: WebGpuModule;
  try {
    mod = (await loadWebGpu()) as WebGpuModule;
  } catch (err) {
    if (isPackageNotFound(err, 'webgpu'))
      throw new BackendNotInstalledError('webgpu', ['webgpu', '@tensorflow/tfjs-backend-webgpu'], { cause: err });
    throw new WebGpuUnavailableError(`the "webgpu" package failed to load (${String((err as Error).message ?? err)})`, {
      cause: err,
    });
  }
  let gpu: GpuLike;
  try {
    gpu = mod.create([]);
  } catch (err) {
    throw new WebGpuUnavailableError(`Dawn could not start (${String((err as Error).message ?? err)})`, { cause: err });
  }
  const adapter = await gpu.requestAdapter();
  if (adapter === null || adapter === undefined)
    throw new WebGpuUnavailableError('no WebGPU adapter was found (no GPU, or no Vulkan/Metal/D3D12 driver visible)');
  Object.assign(globalThis, mod.globals);
  installNavigatorGpu(gpu);
  return { gpu, adapter, description: describeAdapter(adapter) };
}

function installNavigatorGpu(gpu: GpuLike): void {
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
  } else if (g.navigator.gpu === undefined) {
    Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true, writable: true });
  }
}
