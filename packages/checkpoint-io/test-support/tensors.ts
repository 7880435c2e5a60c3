// Test helper: every tensor of a .safetensors file, read into memory (for comparing small outputs).
import { openSafetensors } from '../src/safetensors/index.js';
import type { RawTensor } from '../src/dtype/index.js';

/** Every tensor of the safetensors file at `path`, by name (the file is closed before returning). */
export async function allTensors(path: string): Promise<Map<string, RawTensor>> {
  const r = await openSafetensors(path);
  try {
    const m = new Map<string, RawTensor>();
    for await (const [k, t] of r.tensors()) m.set(k, t);
    return m;
  } finally {
    await r.close();
  }
}
