// Test helper: the project's backend selection (@vla-lora/tfjs-backend), which also registers
// tfjs-core's gradients (tfjs-core alone registers none; reshape/add/mul/sum need them).
import { initBackend } from '@vla-lora/tfjs-backend';

export async function useBackend(name: 'wasm' | 'cpu' = 'wasm'): Promise<void> {
  await initBackend({ backend: name });
}
