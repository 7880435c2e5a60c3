// The backend works outside the repo: from an esbuild bundle in a temp dir (wasm binaries located
// beside the bundle or reported missing) and from plain Node in another cwd (gradient resolve hook).
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { locateWasmDir } from './wasm-dir.js';

const run = promisify(execFile);
const indexTs = fileURLToPath(new URL('./index.ts', import.meta.url));
const tsxCli = fileURLToPath(new URL('../../../node_modules/tsx/dist/cli.mjs', import.meta.url));

const tfCoreMain = createRequire(import.meta.url).resolve('@tensorflow/tfjs-core');
// The bundle resolves tfjs-core itself; plain Node from a temp dir gets it by absolute path.
const entry = (tfImport: string): string => `
import * as tf from ${JSON.stringify(tfImport)};
import { initBackend } from ${JSON.stringify(indexTs)};
const backend = process.argv[2];
try {
  const info = await initBackend({ backend, env: {} });
  const g = tf.grad((a) => tf.sum(tf.matMul(a, a)))(tf.tensor2d([[1, 2], [3, 4]]));
  // code that imports tfjs-core's loose gradient files itself loads too once the hook is installed
  if (process.argv[3]) await import(process.argv[3]);
  console.log(JSON.stringify({ info, grad: Array.from(await g.data()), looseImported: Boolean(process.argv[3]) }));
} catch (e) {
  console.log(JSON.stringify({ error: e.name, message: e.message }));
}
`;

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vla-backend-bundle-'));
  writeFileSync(join(dir, 'entry.mjs'), entry('@tensorflow/tfjs-core'));
  writeFileSync(join(dir, 'entry-node.mjs'), entry(pathToFileURL(tfCoreMain).href));
  await build({
    entryPoints: [join(dir, 'entry.mjs')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    mainFields: ['module', 'main'],
    external: ['*.node', 'webgpu', '@tensorflow/tfjs-backend-webgpu'],
    outfile: join(dir, 'app.mjs'),
    absWorkingDir: fileURLToPath(new URL('..', import.meta.url)),
    nodePaths: [fileURLToPath(new URL('../node_modules', import.meta.url))],
    banner: { js: "import {createRequire as __cr} from 'module'; const require = __cr(import.meta.url);" },
    logLevel: 'error',
  });
}, 120_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runApp(
  cmd: string,
  args: string[],
): Promise<{
  info?: Record<string, unknown>;
  grad?: number[];
  looseImported?: boolean;
  error?: string;
  message?: string;
}> {
  const { stdout } = await run(cmd, args, { cwd: dir, env: { PATH: process.env['PATH'] ?? '' } });
  const last = stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(last) as { info?: Record<string, unknown>; grad?: number[] };
}

describe('outside the repo', () => {
  it('bundle without the .wasm files: explicit wasm says how to fix, auto falls back to cpu and says why', async () => {
    const explicit = await runApp(process.execPath, [join(dir, 'app.mjs'), 'wasm']);
    expect(explicit.error).toBe('WasmBinaryNotFoundError');
    expect(explicit.message).toMatch(/VLA_WASM_DIR/);
    const auto = await runApp(process.execPath, [join(dir, 'app.mjs'), 'auto']);
    expect(auto.info?.['name']).toBe('cpu');
    expect(String(auto.info?.['reason'])).toMatch(/wasm unavailable: cannot find tfjs-backend-wasm's \.wasm binaries/);
    expect(auto.grad).toEqual([7, 11, 9, 13]);
  });

  it('bundle with the .wasm files copied beside it: wasm with SIMD, gradients inlined', async () => {
    const src = locateWasmDir({ env: {} });
    for (const f of readdirSync(src).filter((n) => n.endsWith('.wasm'))) copyFileSync(join(src, f), join(dir, f));
    const out = await runApp(process.execPath, [join(dir, 'app.mjs'), 'auto']);
    expect(out.info?.['reason']).toBe('auto: tfjs-node-gpu, tfjs-node not installed');
    expect(out.info?.['name']).toBe('wasm');
    expect(out.info?.['simd']).toBe(true);
    expect(out.info?.['wasmDir']).toBe(dir);
    expect(out.grad).toEqual([7, 11, 9, 13]);
  });

  it("plain Node (tsx) from another cwd: wasm found through the package; tfjs-core's loose gradient files load through the hook", async () => {
    const loose = pathToFileURL(join(dirname(tfCoreMain), 'register_all_gradients.js')).href;
    const out = await runApp(process.execPath, [tsxCli, join(dir, 'entry-node.mjs'), 'auto', loose]);
    expect(out.looseImported).toBe(true);
    expect(out.info?.['name']).toBe('wasm');
    expect(String(out.info?.['wasmDir'])).toMatch(/tfjs-backend-wasm[/\\]dist$/);
    expect(out.grad).toEqual([7, 11, 9, 13]);
  });
});
