import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bf16ToF32,
  castFloat,
  f32ToBf16,
  loadPeftAdapter,
  openSafetensors,
  writeSafetensors,
  writeSafetensorsSharded,
  type SafetensorsEntry,
} from '@vla-lora/checkpoint-io';
import { useBackend } from '../test/backend.js';
import { treeFromSafetensors } from '../test/state-dict-tree.js';
import { mergeAdapterIntoSafetensors, addLoraDelta } from './merge-file.js';
import { loadAdapter } from './save-load.js';
import { loraLayers } from './inject.js';
import { AdapterMismatchError } from './errors.js';
import { maxAbsDiff } from '@vla-lora/vitest-config/compare';

const FIX = fileURLToPath(new URL('../../../fixtures/peft-tiny-gemma/', import.meta.url));
const BASE = join(FIX, 'base/model.safetensors');
let tmp: string;

beforeAll(async () => {
  await useBackend('wasm');
  tmp = await mkdtemp(join(tmpdir(), 'lora-core-merge-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** W + scaling * B A per LoRA layer, computed by the in-memory LoraLinear (tfjs matMul path). */
async function expectedMerged(adapterDir: string): Promise<Map<string, Float32Array>> {
  const model = await treeFromSafetensors(BASE);
  await loadAdapter(adapterDir, model);
  return new Map(loraLayers(model).map(([n, l]) => [`${n}.weight`, Float32Array.from(l.effectiveWeight().dataSync())]));
}

describe('streamed merge of an adapter into a base safetensors file', () => {
  for (const which of ['adapter', 'rslora']) {
    it(`fp32 base + ${which}/: merged weights equal W + scaling·B·A, everything else byte-identical`, async () => {
      const out = join(tmp, `${which}-merged.safetensors`);
      const seen: string[] = [];
      const rep = await mergeAdapterIntoSafetensors(BASE, join(FIX, which), out, {
        onTensor: (p) => seen.push(p.action),
      });
      const want = await expectedMerged(join(FIX, which));
      expect(rep.merged.map((m) => m.name).sort()).toEqual([...want.keys()].sort());
      expect(rep.copied).toBe(20 - want.size);
      expect(seen).toHaveLength(20);
      if (which === 'rslora') expect(rep.merged.every((m) => m.scaling === 4)).toBe(true);
      const [o, b] = [await openSafetensors(out), await openSafetensors(BASE)];
      try {
        expect(o.metadata).toEqual({ format: 'pt' });
        expect(o.list().map((i) => [i.name, i.dtype, i.shape])).toEqual(
          b.list().map((i) => [i.name, i.dtype, i.shape]),
        );
        for (const info of b.list()) {
          const got = await o.readFloat32(info.name);
          const w = want.get(info.name);
          if (w) {
            expect(maxAbsDiff(got, w)).toBeLessThan(1e-6);
          } else {
            expect(Buffer.compare((await o.read(info.name)).bytes, (await b.read(info.name)).bytes)).toBe(0);
          }
        }
      } finally {
        await o.close();
        await b.close();
      }
    });
  }

  it('a bf16 base stays bf16: W widened, delta added in fp32, rounded once', async () => {
    const b16 = join(tmp, 'base-bf16.safetensors');
    const src = await openSafetensors(BASE);
    const entries: SafetensorsEntry[] = [];
    for await (const [name, t] of src.tensors()) {
      const c = castFloat(t, 'BF16');
      entries.push({ name, dtype: c.dtype, shape: c.shape, data: c.bytes });
    }
    await src.close();
    await writeSafetensors(b16, entries, { metadata: { format: 'pt' } });

    const out = join(tmp, 'bf16-merged.safetensors');
    await mergeAdapterIntoSafetensors(b16, join(FIX, 'adapter'), out);
    const adapter = await loadPeftAdapter(join(FIX, 'adapter'));
    const [o, b] = [await openSafetensors(out), await openSafetensors(b16)];
    try {
      expect(new Set(o.list().map((i) => i.dtype))).toEqual(new Set(['BF16']));
      const name = 'model.layers.1.mlp.down_proj.weight';
      const w = await b.readFloat32(name);
      const A = new Float32Array(
        new Uint8Array(
          adapter.tensors.get(`base_model.model.model.layers.1.mlp.down_proj.lora_A.default.weight`)!.bytes,
        ).buffer,
      );
      const B = new Float32Array(
        new Uint8Array(
          adapter.tensors.get(`base_model.model.model.layers.1.mlp.down_proj.lora_B.default.weight`)!.bytes,
        ).buffer,
      );
      addLoraDelta(w, A, B, 64, 128, 8, 2);
      const want = bf16ToF32(f32ToBf16(w));
      const got = await o.readFloat32(name);
      expect(Array.from(got)).toEqual(Array.from(want));
      expect(Buffer.compare((await o.read('model.norm.weight')).bytes, (await b.read('model.norm.weight')).bytes)).toBe(
        0,
      );
    } finally {
      await o.close();
      await b.close();
    }
  });

  it('a sharded base gives a sharded output with its index; every tensor equals the single-file merge', async () => {
    const shardedBase = join(tmp, 'base-sharded');
    const src = await openSafetensors(BASE);
    const entries: SafetensorsEntry[] = [];
    for await (const [name, t] of src.tensors()) entries.push({ name, dtype: t.dtype, shape: t.shape, data: t.bytes });
    await src.close();
    await writeSafetensorsSharded(shardedBase, entries, { maxShardSize: 60_000, metadata: { format: 'pt' } });
    const single = join(tmp, 'single-merged.safetensors');
    await mergeAdapterIntoSafetensors(BASE, join(FIX, 'adapter'), single);
    const outDir = join(tmp, 'sharded-merged');
    const rep = await mergeAdapterIntoSafetensors(shardedBase, join(FIX, 'adapter'), outDir, { blockBytes: 4096 });
    expect(rep.output.kind).toBe('sharded');
    expect(rep.output.shards).toBeGreaterThan(1);
    const files = await readdir(outDir);
    expect(files).toContain('model.safetensors.index.json');
    const [o, s1] = [await openSafetensors(outDir), await openSafetensors(single)];
    try {
      expect(
        o
          .list()
          .map((i) => i.name)
          .sort(),
      ).toEqual(
        s1
          .list()
          .map((i) => i.name)
          .sort(),
      );
      for (const info of s1.list())
        expect(Buffer.compare((await o.read(info.name)).bytes, (await s1.read(info.name)).bytes), info.name).toBe(0);
    } finally {
      await o.close();
      await s1.close();
    }
  });

  it('refuses an adapter that does not fit the base, writing nothing', async () => {
    // a base with only layer 0
    const part = join(tmp, 'base-layer0.safetensors');
    const src = await openSafetensors(BASE);
    const entries: SafetensorsEntry[] = [];
    for await (const [name, t] of src.tensors())
      if (!name.startsWith('model.layers.1.')) entries.push({ name, dtype: t.dtype, shape: t.shape, data: t.bytes });
    await src.close();
    await writeSafetensors(part, entries, { metadata: { format: 'pt' } });
    const out = join(tmp, 'never.safetensors');
    const err = (await mergeAdapterIntoSafetensors(part, join(FIX, 'adapter'), out).catch(
      (e: unknown) => e,
    )) as AdapterMismatchError;
    expect(err).toBeInstanceOf(AdapterMismatchError);
    expect(err.unexpected).toHaveLength(7);
    expect(err.message).toMatch(/base_model\.model\.model\.layers\.1\.mlp\.down_proj has no base tensor/);
    await expect(stat(out)).rejects.toThrow(/ENOENT/);
  });

  it('addLoraDelta is W + s B A', () => {
    const w = new Float32Array([1, 2, 3, 4, 5, 6]); // [2, 3]
    const a = new Float32Array([1, 0, -1]); // [1, 3]
    const b = new Float32Array([2, 3]); // [2, 1]
    addLoraDelta(w, a, b, 2, 3, 1, 0.5);
    expect(Array.from(w)).toEqual([2, 2, 2, 5.5, 5, 4.5]);
  });
});
