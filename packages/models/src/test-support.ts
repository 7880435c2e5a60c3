// Shared by this package's tests only (not exported from index.ts).
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import type * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@vla-lora/tfjs-backend';

/** Initialises the backend the tests run on: VLA_BACKEND or wasm (the embedded default). */
export async function setupBackend(): Promise<string> {
  const info = await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'wasm' });
  return info.name;
}

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

export { maxAbsDiff } from '@vla-lora/vitest-config/compare';

export function data(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

let torchChecked: boolean | undefined;
/** Whether Debian's torch (the correctness oracle) is importable by /usr/bin/python3. */
export function hasTorch(): boolean {
  if (torchChecked === undefined) {
    try {
      execFileSync('/usr/bin/python3', ['-c', 'import torch, numpy'], { stdio: 'ignore', timeout: 60_000 });
      torchChecked = true;
    } catch {
      torchChecked = false;
    }
  }
  return torchChecked;
}
