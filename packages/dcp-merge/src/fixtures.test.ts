// Acceptance on the ground truth: a DCP checkpoint written by PyTorch 2.13 (two gloo ranks, FSDP2-style DTensor
// shards of a PEFT LoRA model + AdamW state) and PyTorch's own dcp_to_torch_save of it (expected.pt, read with
// checkpoint-io's .pt reader). Every tensor must come out bit for bit.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPt, readAdapterConfig, type RawTensor, type TorchTensor } from '@vla-lora/checkpoint-io';
import { allTensors } from '@vla-lora/checkpoint-io/test-support';
import { consolidate } from './consolidate.js';
import { extractAdapter } from './adapter.js';
import { openDcpCheckpoint } from './checkpoint.js';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';

const FIX = fileURLToPath(new URL('../../../fixtures/dcp/dcp-w2-f32/', import.meta.url));
const CKPT = join(FIX, 'checkpoint');

let tmp: string;
let expected: Map<string, TorchTensor>;
beforeAll(async () => {
  tmp = await testTmpDir('dcp-merge-fix-');
  const pt = await readPt(join(FIX, 'expected.pt'));
  expected = new Map(pt.tensors());
  (globalThis as { __expectedBytes?: Map<string, Uint8Array> }).__expectedBytes = new Map(
    await Promise.all([...expected].map(async ([k, t]) => [k, await t.readBytes()] as [string, Uint8Array])),
  );
  await pt.close();
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const expectedBytes = (): Map<string, Uint8Array> =>
  (globalThis as { __expectedBytes?: Map<string, Uint8Array> }).__expectedBytes as Map<string, Uint8Array>;

describe('dcp-w2-f32 (PyTorch 2.13, 2 ranks) against dcp_to_torch_save', () => {
  it('parses .metadata: 132 tensors, 6 non-tensor entries, 2 rank files, chunks split on dim 0', async () => {
    const ck = await openDcpCheckpoint(CKPT);
    try {
      expect(ck.files).toEqual(['__0_0.distcp', '__1_0.distcp']);
      expect(ck.tensors.length).toBe(132);
      expect(ck.bytesEntries.length).toBe(6);
      expect(ck.bytesEntries.map((e) => e.fqn)).toContain('step');
      const emb = ck.tensors.find((t) => t.fqn === 'model.model.embed_tokens.weight');
      expect(emb?.shape).toEqual([257, 64]);
      expect(emb?.path).toEqual(['model', 'model.embed_tokens.weight']);
      const e = ck.metadata.entries.find((x) => x.fqn === 'model.model.embed_tokens.weight');
      expect(e?.kind === 'tensor' && e.chunks.map((c) => [c.offsets, c.sizes])).toEqual([
        [
          [0, 0],
          [129, 64],
        ],
        [
          [129, 0],
          [128, 64],
        ],
      ]);
    } finally {
      await ck.close();
    }
  });

  it('--all: every tensor (model + optimizer state) equals expected.pt bit for bit', async () => {
    const out = join(tmp, 'all.safetensors');
    const r = await consolidate(CKPT, out, { key: null });
    const got = await allTensors(out);
    const want = expectedBytes();
    expect(r.tensors).toBe(want.size);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, w] of want) {
      const g = got.get(k) as RawTensor;
      expect({ k, shape: g.shape, dtype: g.dtype }).toEqual({ k, shape: expected.get(k)?.shape, dtype: 'F32' });
      expect(Buffer.from(g.bytes).equals(Buffer.from(w)), k).toBe(true);
    }
  });

  it('default: the model state dict (key "model") under its own names, bit for bit', async () => {
    const out = join(tmp, 'model.safetensors');
    const r = await consolidate(CKPT, out);
    expect(r.key).toBe('model');
    expect(r.tensors).toBe(48);
    expect(r.skippedTensors).toBe(84);
    expect(r.skippedBytesEntries).toBe(6);
    const got = await allTensors(out);
    for (const [k, g] of got) {
      const w = expectedBytes().get(`model.${k}`) as Uint8Array;
      expect(w, k).toBeDefined();
      expect(Buffer.from(g.bytes).equals(Buffer.from(w)), k).toBe(true);
    }
    expect(got.has('model.embed_tokens.weight')).toBe(true);
  });

  it('extract-adapter: the 28 LoRA tensors under PEFT names, verified, values bit for bit', async () => {
    const out = join(tmp, 'adapter');
    const r = await extractAdapter(CKPT, out, { loraAlpha: 16 });
    expect(r.adapterName).toBe('default');
    expect(r.loraTensors).toBe(28);
    expect(r.report.modules).toBe(14);
    expect(r.report.ranks).toEqual({ 8: 14 });
    expect((await readdir(out)).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    const cfg = await readAdapterConfig(out);
    expect(cfg.r).toBe(8);
    expect(cfg.lora_alpha).toBe(16);
    expect([...(cfg.target_modules as string[])].sort()).toEqual(
      ['down_proj', 'gate_proj', 'k_proj', 'o_proj', 'q_proj', 'up_proj', 'v_proj'].sort(),
    );
    const got = await allTensors(join(out, 'adapter_model.safetensors'));
    expect(got.size).toBe(28);
    for (const [k, g] of got) {
      expect(k.startsWith('base_model.model.model.layers.')).toBe(true);
      const src = `model.${k.slice('base_model.model.'.length).replace(/\.(lora_[AB])\.weight$/, '.$1.default.weight')}`;
      const w = expectedBytes().get(src) as Uint8Array;
      expect(w, src).toBeDefined();
      expect(Buffer.from(g.bytes).equals(Buffer.from(w)), k).toBe(true);
    }
  });

  it('streams in pieces smaller than a row with the same bytes', async () => {
    const ck = await openDcpCheckpoint(CKPT);
    try {
      const t = ck.tensors.find((x) => x.fqn === 'model.model.embed_tokens.weight');
      const parts: Buffer[] = [];
      for await (const p of t!.chunks(100)) parts.push(Buffer.from(p));
      expect(Buffer.concat(parts).equals(Buffer.from(expectedBytes().get(t!.fqn) as Uint8Array))).toBe(true);
    } finally {
      await ck.close();
    }
  });
});
