// Test helper: the project's backend selection (@vla-lora/tfjs-backend), which also registers
// tfjs-core's gradients (tfjs-core alone registers none; reshape/add/mul/sum need them).
// VLA_BACKEND=webgpu (CI's webgpu project) runs the test on WebGPU instead of `name`.
import { initBackend } from '@vla-lora/tfjs-backend';

export async function useBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<string> {
  const info = await initBackend({ backend: process.env['VLA_BACKEND'] === 'webgpu' ? 'webgpu' : name });
  return info.name;
}
