// Finds the folder that holds tfjs-backend-wasm's .wasm binaries, from any cwd and from a bundle.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WasmBinaryNotFoundError } from './errors.js';

/** The binary every SIMD-capable Node picks; its presence marks a usable folder. */
export const WASM_MARKER = 'tfjs-backend-wasm-simd.wasm';
const WASM_FILES = ['tfjs-backend-wasm.wasm', WASM_MARKER];

function holdsBinaries(dir: string): boolean {
  return WASM_FILES.every((f) => existsSync(join(dir, f)));
}

/** Candidate folders, most specific first: option, VLA_WASM_DIR, the installed package, beside this module (bundles). */
export function wasmDirCandidates(opts: {
  wasmDir?: string;
  env: Record<string, string | undefined>;
  moduleUrl?: string;
}): string[] {
  const out: string[] = [];
  if (opts.wasmDir) out.push(resolve(opts.wasmDir));
  const fromEnv = opts.env['VLA_WASM_DIR']?.trim();
  if (fromEnv) out.push(resolve(fromEnv));
  const here = opts.moduleUrl ?? import.meta.url;
  try {
    const main = createRequire(here).resolve('@tensorflow/tfjs-backend-wasm');
    out.push(dirname(main));
  } catch {
    // not resolvable from here (e.g. a bundle copied away from node_modules): the next candidate covers it
  }
  if (here.startsWith('file:')) {
    const own = dirname(fileURLToPath(here));
    out.push(own, join(own, 'wasm'));
  }
  return [...new Set(out)];
}

/**
 * The first candidate folder that holds the binaries. An explicit wasmDir / VLA_WASM_DIR that lacks
 * them is an error rather than silently skipped.
 */
export function locateWasmDir(opts: {
  wasmDir?: string;
  env: Record<string, string | undefined>;
  moduleUrl?: string;
}): string {
  const candidates = wasmDirCandidates(opts);
  const explicit = opts.wasmDir ?? opts.env['VLA_WASM_DIR']?.trim();
  if (explicit) {
    const dir = resolve(explicit);
    if (!holdsBinaries(dir)) throw new WasmBinaryNotFoundError([dir]);
    return dir;
  }
  const found = candidates.find(holdsBinaries);
  if (found === undefined) throw new WasmBinaryNotFoundError(candidates);
  return found;
}
