// The browser entry bundles for the browser with no node: import anywhere in its module graph.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as browser from './browser.js';
import { loadPeftAdapter } from './peft/adapter.js';

const fixture = (p: string): string => fileURLToPath(new URL(`../../../fixtures/${p}`, import.meta.url));

describe('@vla-lora/checkpoint-io/browser', () => {
  it('bundles with esbuild for platform "browser" without shims, and no input imports node:', async () => {
    const out = await build({
      entryPoints: [fileURLToPath(new URL('./browser.ts', import.meta.url))],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    expect(out.errors).toEqual([]);
    const imports = Object.values(out.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
    expect(imports.filter((p) => p.startsWith('node:'))).toEqual([]);
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.some((p) => p.endsWith('source/url.ts'))).toBe(true);
    const nodeOnly = (p: string) =>
      /\/(fs|state|cli)\//.test(p) ||
      /\/(reader|sharded|open)\.ts$/.test(p) ||
      /\/pt\/(read|write)\.ts$|\/pt\/zip\/(archive|writer)\.ts$/.test(p);
    expect(inputs.filter(nodeOnly)).toEqual([]);
    expect(inputs.some((p) => p.endsWith('pt/read-source.ts'))).toBe(true);
    const text = out.outputFiles[0]!.text;
    // Buffer only behind a typeof guard (bytes.ts allocUnfilled), never Buffer.from
    expect(text).not.toMatch(/\bBuffer\.from\b/);
    expect(text).not.toMatch(/\brequire\(/);
  });

  it('verifies the PEFT fixture adapter from Blobs, and names the ZeRO placeholder with the hint', async () => {
    const blob = async (p: string) => new Blob([await readFile(fixture(p))]);
    const ok = await browser.verifyAdapterFiles([
      { name: 'adapter/adapter_config.json', blob: await blob('peft-tiny-gemma/adapter/adapter_config.json') },
      {
        name: 'adapter/adapter_model.safetensors',
        blob: await blob('peft-tiny-gemma/adapter/adapter_model.safetensors'),
      },
    ]);
    expect(ok.summary).toBe('28 LoRA tensors, 15872 values');
    const z = 'zero/zero3-w4-bf16/checkpoint-5000';
    const err = await browser
      .verifyAdapterFiles([
        { name: 'checkpoint-5000/adapter_config.json', blob: await blob(`${z}/adapter_config.json`) },
        { name: 'checkpoint-5000/adapter_model.safetensors', blob: await blob(`${z}/adapter_model.safetensors`) },
        { name: 'checkpoint-5000/latest', blob: await blob(`${z}/latest`) },
        { name: 'checkpoint-5000/global_step5000/mp_rank_00_model_states.pt', blob: new Blob([]) },
      ])
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(browser.AdapterPlaceholderError);
    expect((err as Error).message).toContain('checkpoint-5000/global_step5000');
    expect((err as Error).message).toContain('zero-merge extract-adapter');
  });

  it('loads the PEFT fixture adapter from Blobs exactly as loadPeftAdapter does from its directory', async () => {
    const dir = fixture('peft-tiny-gemma/adapter');
    const want = await loadPeftAdapter(dir);
    const got = await browser.loadPeftAdapterFiles([
      { name: 'a/adapter_config.json', blob: new Blob([await readFile(`${dir}/adapter_config.json`)]) },
      { name: 'a/adapter_model.safetensors', blob: new Blob([await readFile(`${dir}/adapter_model.safetensors`)]) },
    ]);
    expect(got.config).toEqual(want.config);
    expect([...got.tensors.keys()]).toEqual([...want.tensors.keys()]);
    for (const [k, t] of want.tensors)
      expect(Buffer.from(got.tensors.get(k)!.bytes).equals(Buffer.from(t.bytes))).toBe(true);
    const z = fixture('zero/zero3-w4-bf16/checkpoint-5000');
    await expect(
      browser.loadPeftAdapterFiles([
        { name: 'c/adapter_config.json', blob: new Blob([await readFile(`${z}/adapter_config.json`)]) },
        { name: 'c/adapter_model.safetensors', blob: new Blob([await readFile(`${z}/adapter_model.safetensors`)]) },
      ]),
    ).rejects.toBeInstanceOf(browser.AdapterPlaceholderError);
  });
});
