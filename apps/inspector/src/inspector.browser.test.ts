// The inspector page in real headless Chromium (Debian's /usr/bin/chromium via playwright-core): each
// fixture is given to the page through its file inputs (as a user picks them) or as a URL; the test
// reads the page's inspection, checks it, and writes a screenshot of each page to .screenshots/.
import { mkdir, mkdtemp, open, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSafetensors, writeSafetensorsSharded } from '@vla-lora/checkpoint-io';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildInspector } from '../scripts/build.js';
import { haveChromium, withChromium as withChromiumAt } from '@vla-lora/test-chromium';

const withChromium = <T>(fn: (ctx: BrowserContext) => Promise<T>): Promise<T> =>
  withChromiumAt(fn, { viewport: { width: 1100, height: 800 } });
import { startStaticServer, type StaticServer } from '../test-support/static-server.js';
import { hasPython, makeHostileFiles } from '../../../packages/checkpoint-io/test-support/hostile.js';
import type { Inspection } from './analyze.js';

const FIX = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const SHOTS = fileURLToPath(new URL('../.screenshots/', import.meta.url));
if (!haveChromium)
  console.warn('SKIPPED inspector browser tests: /usr/bin/chromium is not installed (.ci/run installs it)');

let server: StaticServer;
let tmp: string;
let bigFile: string;
const BIG_DATA = 2 ** 31; // 2 GiB of tensor data (sparse on disk)

/** A sparse safetensors file: a real header, then 2 GiB of zeros the file system does not store. */
async function makeBigFile(path: string): Promise<void> {
  const tensors: Record<string, unknown> = { __metadata__: { format: 'pt', note: 'sparse 2 GiB test file' } };
  let off = 0;
  const add = (name: string, dtype: string, shape: number[], item: number) => {
    const n = shape.reduce((a, b) => a * b, 1) * item;
    tensors[name] = { dtype, shape, data_offsets: [off, off + n] };
    off += n;
  };
  add('model.embed_tokens.weight', 'BF16', [16384, 32768], 2); // 1 GiB
  for (let i = 0; i < 16; i++) add(`model.layers.${i}.mlp.down_proj.weight`, 'BF16', [4096, 8192], 2); // 16 × 64 MiB
  expect(off).toBe(BIG_DATA);
  let json = JSON.stringify(tensors);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const head = Buffer.alloc(8 + json.length);
  head.writeBigUInt64LE(BigInt(json.length), 0);
  head.write(json, 8, 'utf8');
  const fh = await open(path, 'w');
  await fh.write(head, 0, head.length, 0);
  await fh.truncate(head.length + BIG_DATA);
  await fh.close();
}

beforeAll(async () => {
  if (!haveChromium) return;
  tmp = await mkdtemp(join(tmpdir(), 'inspector-'));
  const dist = await buildInspector(join(tmp, 'dist'));
  // a sharded copy of the fixture base model, as transformers' save_pretrained lays it out
  const base = await openSafetensors(join(FIX, 'peft-tiny-gemma/base/model.safetensors'));
  const entries = [];
  for await (const [name, t] of base.tensors()) entries.push({ name, dtype: t.dtype, shape: t.shape, data: t.bytes });
  await base.close();
  await writeSafetensorsSharded(join(tmp, 'sharded'), entries, { maxShardSize: 40_000 });
  bigFile = join(tmp, 'big-2GiB.safetensors');
  await makeBigFile(bigFile);
  server = await startStaticServer({ '/fixtures/': FIX, '/': dist });
  await mkdir(SHOTS, { recursive: true });
}, 120_000);
afterAll(() => server?.close());

async function inspectWith(page: Page, shot: string, act: (page: Page) => Promise<void>): Promise<Inspection> {
  await page.goto(`${server.origin}/index.html`);
  await page.waitForSelector('body[data-state=ready]');
  await act(page);
  await page.waitForSelector('body[data-state=done]', { timeout: 30_000 });
  await page.screenshot({ path: join(SHOTS, `${shot}.png`), fullPage: true });
  return (await page.evaluate('window.lastInspection')) as Inspection;
}

const pick = (files: string | string[]) => (page: Page) => page.setInputFiles('#files', files);
const pickFolder = (dir: string) => (page: Page) => page.setInputFiles('#folder', dir);

describe.skipIf(!haveChromium)('inspector page in headless Chromium', () => {
  it('shows fixtures: tables, dtype totals, adapter verification, the ZeRO hint; nothing leaves the page', async () => {
    await withChromium(async (ctx) => {
      const page = await ctx.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));

      const adapter = await inspectWith(page, 'peft-adapter-folder', pickFolder(join(FIX, 'peft-tiny-gemma/adapter')));
      expect(adapter.kind).toBe('PEFT adapter');
      expect(adapter.adapter).toMatchObject({ ok: true, summary: '28 LoRA tensors, 15872 values', modules: 14 });
      expect(adapter.tensors).toHaveLength(28);
      expect(await page.locator('[data-testid=adapter]').textContent()).toContain('verified: 28 LoRA tensors');

      const rs = await inspectWith(page, 'peft-rslora-folder', pickFolder(join(FIX, 'peft-tiny-gemma/rslora')));
      expect(rs.adapter?.ok).toBe(true);

      const model = await inspectWith(
        page,
        'base-model-file',
        pick(join(FIX, 'peft-tiny-gemma/base/model.safetensors')),
      );
      expect(model.kind).toBe('safetensors');
      const want = (await openSafetensors(join(FIX, 'peft-tiny-gemma/base/model.safetensors'))).list();
      expect(model.tensors.map((t) => [t.name, t.dtype, t.shape, t.bytes])).toEqual(
        want.map((t) => [t.name, t.dtype, t.shape, t.byteLength]),
      );
      expect(model.dtypeTotals.reduce((a, t) => a + t.bytes, 0)).toBe(want.reduce((a, t) => a + t.byteLength, 0));
      expect(model.bytesRead).toBeLessThan(model.totalBytes / 4); // the header, not the tensors

      const sharded = await inspectWith(page, 'sharded-folder', pickFolder(join(tmp, 'sharded')));
      expect(sharded.kind).toBe('sharded safetensors');
      expect(sharded.tensors).toHaveLength(want.length);

      const zero3 = await inspectWith(
        page,
        'zero3-placeholder-folder',
        pickFolder(join(FIX, 'zero/zero3-w4-bf16/checkpoint-5000')),
      );
      expect(zero3.adapter).toMatchObject({ ok: false, error: 'AdapterPlaceholderError' });
      expect(zero3.adapter?.message).toContain('checkpoint-5000/global_step5000');
      expect(zero3.adapter?.zeroHint).toBe('npx @vla-lora/zero-merge extract-adapter checkpoint-5000 <out-dir>');
      expect(await page.locator('[data-testid=zero-hint]').textContent()).toContain('zero-merge extract-adapter');

      const zero2 = await inspectWith(
        page,
        'zero2-folder',
        pickFolder(join(FIX, 'zero/zero2-w3-fp16/checkpoint-5000')),
      );
      expect(zero2.kind).toBe('PEFT adapter');
      expect(zero2.adapter).toBeDefined();

      // only the page itself was requested: no file bytes were sent anywhere
      const paths = [...new Set(requests.map((u) => new URL(u).pathname))].sort();
      expect(paths).toEqual(['/app.js', '/index.html', '/style.css']);
    });
  }, 120_000);

  it('.pt / .bin: tensors of torch.save files (zip and legacy) and of a ZeRO folder; hostile globals named', async () => {
    await withChromium(async (ctx) => {
      const page = await ctx.newPage();
      const zip = await inspectWith(page, 'torch-zip-pt', pick(join(FIX, 'torch-pt/torch-2.11/state_dict_f32.pt')));
      expect(zip.kind).toBe('PyTorch pickle');
      expect(zip.error).toBeUndefined();
      expect(zip.tensors.length).toBeGreaterThan(0);
      expect(zip.notes[0]).toContain('zip format');
      const legacy = await inspectWith(
        page,
        'torch-legacy-pt',
        pick(join(FIX, 'torch-pt/torch-1.13/state_dict_f32_legacy.pt')),
      );
      expect(legacy.notes[0]).toContain('legacy format');
      expect(legacy.tensors.map((t) => t.name)).toEqual(zip.tensors.map((t) => t.name));
      const zero = await inspectWith(
        page,
        'zero2-global-step-folder',
        pickFolder(join(FIX, 'zero/zero2-w3-fp16/checkpoint-5000/global_step5000')),
      );
      expect(zero.error).toBeUndefined();
      expect(zero.notes).toHaveLength(5);
      expect(zero.notes[0]).toContain('zero-merge extract-adapter');
      expect(zero.tensors.length).toBeGreaterThan(4);
      if (!hasPython()) {
        console.warn('SKIPPED hostile pickle page check: /usr/bin/python3 is missing');
        return;
      }
      const hostile = makeHostileFiles(await mkdtemp(join(tmpdir(), 'hostile-')));
      const bad = await inspectWith(page, 'hostile-pickle', pick(join(hostile.dir, 'system-p2.pt')));
      expect(bad.unsafeGlobals).toEqual([expect.stringMatching(/^(posix|os|nt)\.system$/)]);
      expect(await page.locator('[data-testid=unsafe]').textContent()).toMatch(/system/);
      const evil = await inspectWith(page, 'hostile-eval', pick(join(hostile.dir, 'eval-p4.pt')));
      expect(evil.unsafeGlobals).toEqual(['builtins.eval']);
    });
  }, 120_000);

  it('a pasted URL is read with Range requests: the header, not the tensors', async () => {
    await withChromium(async (ctx) => {
      const page = await ctx.newPage();
      const before = server.log.length;
      const r = await inspectWith(page, 'url-base-model', async (p) => {
        await p.fill('#url', `${server.origin}/fixtures/peft-tiny-gemma/base/model.safetensors`);
        await p.click('button[type=submit]');
      });
      expect(r.kind).toBe('safetensors');
      expect(r.requests).toBe(1); // the 100 kB first request holds the whole header
      const fetched = server.log.slice(before).filter((l) => l.path.endsWith('model.safetensors'));
      expect(fetched.map((l) => [l.range, l.status])).toEqual([['bytes=0-99999', 206]]);
      expect(r.bytesRead).toBe(Math.min(100_000, r.totalBytes));
      const pt = await inspectWith(page, 'url-torch-pt', async (p) => {
        await p.fill('#url', `${server.origin}/fixtures/torch-pt/torch-2.11/state_dict_f32.pt`);
        await p.click('button[type=submit]');
      });
      expect(pt.kind).toBe('PyTorch pickle');
      expect(pt.error).toBeUndefined();
      expect(pt.tensors.map((t) => t.name)).toEqual(['layers.0.q_proj.weight', 'layers.0.q_proj.bias', 'norm.weight']);
    });
  }, 60_000);

  it('a 2 GiB File is opened without being read whole; the page heap stays small', async () => {
    await withChromium(async (ctx) => {
      const page = await ctx.newPage();
      const cdp = await ctx.newCDPSession(page);
      await cdp.send('Performance.enable');
      const heap = async () => {
        const { metrics } = await cdp.send('Performance.getMetrics');
        const get = (n: string) => metrics.find((m) => m.name === n)?.value ?? Number.NaN;
        return { used: get('JSHeapUsedSize'), total: get('JSHeapTotalSize') };
      };
      await page.goto(`${server.origin}/index.html`);
      await page.waitForSelector('body[data-state=ready]');
      const idle = await heap();
      const r = await inspectWith(page, 'big-2GiB-file', pick(bigFile));
      const after = await heap();
      expect(r.kind).toBe('safetensors');
      expect(r.totalBytes).toBeGreaterThan(BIG_DATA);
      expect(r.tensors).toHaveLength(17);
      expect(r.dtypeTotals).toEqual([{ dtype: 'BF16', tensors: 17, values: BIG_DATA / 2, bytes: BIG_DATA }]);
      const fh = await open(bigFile, 'r');
      const prefix = Buffer.alloc(8);
      await fh.read(prefix, 0, 8, 0);
      await fh.close();
      const headerBytes = 8 + Number(prefix.readBigUInt64LE(0));
      expect(r.bytesRead).toBe(headerBytes); // the length prefix and the header: nothing else was read
      expect(after.used).toBeLessThan(64 * 2 ** 20);
      const report = {
        file: 'big-2GiB.safetensors',
        fileBytes: r.totalBytes,
        bytesReadByPage: r.bytesRead,
        jsHeapUsedBefore: idle.used,
        jsHeapUsedAfter: after.used,
        jsHeapTotalAfter: after.total,
      };
      console.log('inspector 2 GiB file memory (CDP Performance.getMetrics):', JSON.stringify(report));
      await writeFile(join(SHOTS, 'big-2GiB-memory.json'), `${JSON.stringify(report, null, 2)}\n`);
    });
  }, 120_000);
});
