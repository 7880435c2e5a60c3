// Test helpers (test-support: never in dist): backend, temp dirs, adapter surgery through checkpoint-io.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromFloat32, loadPeftAdapter, savePeftAdapter, toFloat32, type PeftAdapter } from '@vla-lora/checkpoint-io';
import { initBackend, registerAllGradients } from '@vla-lora/tfjs-backend';

export const FIXTURES = fileURLToPath(new URL('../../../fixtures/', import.meta.url));

export async function setupBackend(): Promise<string> {
  return (await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'wasm' })).name;
}

/** A fresh directory under the OS temp dir and the function that deletes it. */
export interface TempDir {
  path: string;
  remove: () => Promise<void>;
}

export async function tempDir(prefix: string): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** For a suite's beforeAll: tfjs's cpu backend initialised and a fresh temp dir (`remove()` in afterAll). */
export async function cpuTempDir(prefix: string): Promise<TempDir> {
  await initBackend({ backend: 'cpu' });
  return tempDir(prefix);
}

/** For a training suite's beforeAll: every gradient registered on the default backend and a fresh temp dir. */
export async function gradientsTempDir(prefix: string): Promise<TempDir> {
  await registerAllGradients();
  return tempDir(prefix);
}

/** Copies the adapter dir to `dest` after `edit` changed its config / tensors (saved by checkpoint-io as PEFT does). */
export async function editedAdapter(src: string, dest: string, edit: (a: PeftAdapter) => void): Promise<string> {
  const a = await loadPeftAdapter(src);
  edit(a);
  await savePeftAdapter(dest, a);
  return dest;
}

/** The adapter at rank `r` instead of its own: lora_A rows / lora_B columns cut, config r and alpha set. */
export function cutRank(a: PeftAdapter, r: number): void {
  for (const [k, t] of a.tensors) {
    const v = toFloat32(t);
    if (/\.lora_A\./.test(k)) {
      const inF = t.shape[1]!;
      a.tensors.set(k, fromFloat32(v.slice(0, r * inF), [r, inF], 'F32'));
    } else if (/\.lora_B\./.test(k)) {
      const [out, r0] = t.shape as [number, number];
      const cut = new Float32Array(out * r);
      for (let i = 0; i < out; i++) cut.set(v.subarray(i * r0, i * r0 + r), i * r);
      a.tensors.set(k, fromFloat32(cut, [out, r], 'F32'));
    }
  }
  const cfg = a.config as unknown as Record<string, unknown>;
  cfg['r'] = r;
  cfg['lora_alpha'] = r;
  cfg['rank_pattern'] = {};
  cfg['alpha_pattern'] = {};
}

export async function copyDir(src: string, dest: string): Promise<string> {
  await cp(src, dest, { recursive: true });
  return dest;
}

export { maxAbsDiff } from '@vla-lora/vitest-config/compare';
