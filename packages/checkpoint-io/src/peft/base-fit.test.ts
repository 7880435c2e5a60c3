// Adapter fit against a sharded base from headers only, on generated checkpoints with small widths and
// generic names (no model family): a read-counting ByteSource proves no tensor data is read.
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Dtype, RawTensor } from '../dtype/dtypes.js';
import { fromFloat32 } from '../dtype/convert.js';
import { writeSafetensors } from '../safetensors/writer.js';
import { writeSafetensorsSharded } from '../safetensors/sharded-writer.js';
import { SafetensorsSourceFile } from '../safetensors/source-reader.js';
import type { ByteSource } from '../source/byte-source.js';
import { openFileSource } from '../source/file.js';
import { savePeftAdapter } from './adapter.js';
import { readBaseHeaders, verifyAdapterAgainstBase } from './base-fit-fs.js';
import { adapterWrapperPrefix, checkAdapterFit } from './base-fit.js';
import type { PeftLoraConfig } from './config.js';
import { AdapterBaseMismatchError } from './errors.js';
import { lcgFloats } from '@vla-lora/seeded-random/test-support';

const W = 24; // hidden width
const F = 40; // mlp width
const LAYERS = 4;
let tmp: string;
let shardedDir: string;
let singleDir: string;

/** Values uniform in [-0.5, 0.5). */
const rand = (n: number, seed: number): Float32Array => lcgFloats(n, seed, 0.5);
const tensor = (shape: number[], seed: number, dtype: 'F32' | 'BF16' = 'F32'): RawTensor =>
  fromFloat32(
    rand(
      shape.reduce((a, b) => a * b, 1),
      seed,
    ),
    shape,
    dtype,
  );

/** A generic transformer-ish base: embedding, per block qkv [3W, W], proj [W, W], fc1 [F, W], fc2 [W, F], norms. */
function baseEntries(): Array<{ name: string; dtype: Dtype; shape: number[]; data: Uint8Array }> {
  const out: Array<{ name: string; dtype: Dtype; shape: number[]; data: Uint8Array }> = [];
  const add = (name: string, shape: number[]): void => {
    const t = tensor(shape, out.length + 1, 'BF16');
    out.push({ name, dtype: t.dtype, shape, data: t.bytes });
  };
  add('enc.tok.weight', [50, W]);
  for (let l = 0; l < LAYERS; l++) {
    add(`enc.blocks.${l}.norm.weight`, [W]);
    add(`enc.blocks.${l}.attn.qkv.weight`, [3 * W, W]);
    add(`enc.blocks.${l}.attn.proj.weight`, [W, W]);
    add(`enc.blocks.${l}.mlp.fc1.weight`, [F, W]);
    add(`enc.blocks.${l}.mlp.fc2.weight`, [W, F]);
  }
  add('head.weight', [10, W]);
  return out;
}

const CONFIG: PeftLoraConfig = {
  peft_type: 'LORA',
  r: 4,
  lora_alpha: 8,
  target_modules: ['qkv', 'fc1'],
  task_type: null,
};

/** Writes an adapter for `modules` ({module: [out, in]}), optionally with a different r for one module. */
async function writeAdapter(
  name: string,
  modules: Record<string, [number, number]>,
  config: PeftLoraConfig = CONFIG,
  extra: Record<string, RawTensor> = {},
): Promise<string> {
  const tensors = new Map<string, RawTensor>();
  let seed = 100;
  for (const [m, [out, inF]] of Object.entries(modules)) {
    tensors.set(`base_model.model.${m}.lora_A.default.weight`, tensor([config.r, inF], seed++));
    tensors.set(`base_model.model.${m}.lora_B.default.weight`, tensor([out, config.r], seed++));
  }
  for (const [k, t] of Object.entries(extra)) tensors.set(k, t);
  const dir = join(tmp, name);
  await savePeftAdapter(dir, { config: { ...config }, tensors });
  return dir;
}

function allTargets(): Record<string, [number, number]> {
  const m: Record<string, [number, number]> = {};
  for (let l = 0; l < LAYERS; l++) {
    m[`enc.blocks.${l}.attn.qkv`] = [3 * W, W];
    m[`enc.blocks.${l}.mlp.fc1`] = [F, W];
  }
  return m;
}

/** A ByteSource opener that records every read per file. */
function spy(): { open: (p: string) => Promise<ByteSource>; reads: Map<string, Array<[number, number]>> } {
  const reads = new Map<string, Array<[number, number]>>();
  return {
    reads,
    async open(path: string): Promise<ByteSource> {
      const src = await openFileSource(path);
      const log = reads.get(path) ?? [];
      reads.set(path, log);
      return {
        name: src.name,
        size: src.size,
        read: (offset: number, length: number) => {
          log.push([offset, length]);
          return src.read(offset, length);
        },
        close: () => src.close(),
      };
    },
  };
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'ckpt-basefit-'));
  shardedDir = join(tmp, 'base-sharded');
  await writeSafetensorsSharded(shardedDir, baseEntries(), { maxShardSize: 6000, metadata: { format: 'pt' } });
  singleDir = join(tmp, 'base-single');
  await writeSafetensors(join(singleDir, 'model.safetensors'), baseEntries(), { metadata: { format: 'pt' } });
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('adapter fit against a base, headers only', () => {
  it('a fitting adapter passes against a sharded base, and no shard byte past its header is read', async () => {
    const shards = (await readdir(shardedDir)).filter((f) => f.endsWith('.safetensors'));
    expect(shards.length).toBeGreaterThan(3);
    const dir = await writeAdapter('fits', allTargets());
    const s = spy();
    const r = await verifyAdapterAgainstBase(dir, shardedDir, { openSource: s.open });
    expect(r.base).toMatchObject({ kind: 'sharded', shards: shards.length, tensors: 2 + 5 * LAYERS });
    expect(r.fit.targets).toHaveLength(2 * LAYERS);
    expect(r.fit.missing).toEqual([]);
    // every shard was opened, and each read lies inside [0, 8 + header length): no tensor data
    let dataBytes = 0;
    for (const f of shards) {
      const path = join(shardedDir, f);
      const log = s.reads.get(path);
      expect(log, f).toBeDefined();
      const h = await SafetensorsSourceFile.open(await openFileSource(path));
      const dataStart = h.dataStart;
      dataBytes += h.fileSize - dataStart;
      await h.close();
      for (const [off, len] of log!)
        expect(off + len, `${f} read [${off}, ${off + len})`).toBeLessThanOrEqual(dataStart);
    }
    expect(dataBytes).toBeGreaterThan(20_000); // there was data to (not) read
  });

  it('single model.safetensors base works the same', async () => {
    const s = spy();
    const r = await verifyAdapterAgainstBase(await writeAdapter('fits1', allTargets()), singleDir, {
      openSource: s.open,
    });
    expect(r.base.kind).toBe('file');
    const [log] = [...s.reads.values()];
    const h = await SafetensorsSourceFile.open(await openFileSource(join(singleDir, 'model.safetensors')));
    expect(log!.every(([o, l]) => o + l <= h.dataStart)).toBe(true);
    await h.close();
  });

  it('shape mismatch (adapter trained on another width) names lora_A and lora_B with expected and got', async () => {
    const wrong = allTargets();
    wrong['enc.blocks.2.mlp.fc1'] = [F + 8, W + 8];
    const e = await verifyAdapterAgainstBase(await writeAdapter('shape', wrong), shardedDir).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AdapterBaseMismatchError);
    const rep = (e as AdapterBaseMismatchError).report;
    expect(rep.shapeMismatches).toEqual([
      { name: 'base_model.model.enc.blocks.2.mlp.fc1.lora_A', expected: [4, W], got: [4, W + 8] },
      { name: 'base_model.model.enc.blocks.2.mlp.fc1.lora_B', expected: [F, 4], got: [F + 8, 4] },
    ]);
    expect((e as Error).message).toMatch(/enc\.blocks\.2\.mlp\.fc1\.lora_A expected \[4, 24\] got \[4, 32\]/);
  });

  it('missing targets (a targeted base module without weights) and extra modules (not in the base)', async () => {
    const m = allTargets();
    delete m['enc.blocks.3.mlp.fc1'];
    m['enc.blocks.7.attn.qkv'] = [3 * W, W];
    const e = (await verifyAdapterAgainstBase(await writeAdapter('missing', m), shardedDir).catch(
      (x: unknown) => x,
    )) as AdapterBaseMismatchError;
    expect(e).toBeInstanceOf(AdapterBaseMismatchError);
    expect(e.report.missing).toEqual(['enc.blocks.3.mlp.fc1']);
    expect(e.report.extra).toEqual(['base_model.model.enc.blocks.7.attn.qkv']);
  });

  it('exclude_modules and layers_to_transform decide what "missing" means, as PEFT does', async () => {
    const m = allTargets();
    delete m['enc.blocks.0.mlp.fc1'];
    await verifyAdapterAgainstBase(
      await writeAdapter('excl', m, { ...CONFIG, exclude_modules: ['blocks.0.mlp.fc1'] }),
      shardedDir,
    );
    const only = Object.fromEntries(Object.entries(allTargets()).filter(([k]) => /\.(1|3)\./.test(k)));
    const r = await verifyAdapterAgainstBase(
      await writeAdapter('layers', only, { ...CONFIG, layers_to_transform: [1, 3], layers_pattern: 'blocks' }),
      shardedDir,
    );
    expect(r.fit.targets).toHaveLength(4);
    // the same adapter with layers_to_transform [1, 2, 3]: layer 2 is missing
    const e = (await verifyAdapterAgainstBase(
      await writeAdapter('layers2', only, { ...CONFIG, layers_to_transform: [1, 2, 3], layers_pattern: 'blocks' }),
      shardedDir,
    ).catch((x: unknown) => x)) as AdapterBaseMismatchError;
    expect(e.report.missing).toEqual(['enc.blocks.2.attn.qkv', 'enc.blocks.2.mlp.fc1']);
  });

  it('rank_pattern ranks are checked per module; modules_to_save copies must match the base shape', () => {
    const base = baseEntries().map(({ name, dtype, shape }) => ({ name, dtype, shape }));
    const adapter = [
      { name: 'base_model.model.enc.blocks.0.attn.qkv.lora_A.weight', dtype: 'F32' as const, shape: [8, W] },
      { name: 'base_model.model.enc.blocks.0.attn.qkv.lora_B.weight', dtype: 'F32' as const, shape: [3 * W, 8] },
      { name: 'base_model.model.head.weight', dtype: 'F32' as const, shape: [10, W + 1] },
    ];
    const cfg = { ...CONFIG, target_modules: String.raw`enc\.blocks\.0\.attn\.qkv`, rank_pattern: { qkv: 8 } };
    const ok = checkAdapterFit(cfg, adapter, base);
    expect(ok.rankMismatches).toEqual([]);
    expect(ok.shapeMismatches).toEqual([{ name: 'base_model.model.head.weight', expected: [10, W], got: [10, W + 1] }]);
    const bad = checkAdapterFit({ ...cfg, rank_pattern: {} }, adapter, base);
    expect(bad.rankMismatches).toEqual([{ module: 'enc.blocks.0.attn.qkv', expected: 4, rankA: 8, rankB: 8 }]);
  });

  it("an adapter saved from a wrapper of the base (LeRobot's PI0Policy: base_model.model.model.…) fits only when allowed", () => {
    // LeRobot's pi0 PEFT default (huggingface/lerobot, policies/pi0/modeling_pi0.py
    // _get_default_peft_targets): a regex over the wrapper's names, LoRA on attention and on the heads
    const base = baseEntries().map(({ name, dtype, shape }) => ({ name, dtype, shape }));
    const lora = (mod: string, out: number, inF: number, r = 4) => [
      { name: `base_model.model.model.${mod}.lora_A.weight`, dtype: 'F32' as const, shape: [r, inF] },
      { name: `base_model.model.model.${mod}.lora_B.weight`, dtype: 'F32' as const, shape: [out, r] },
    ];
    const adapter = [0, 1, 2, 3].flatMap((l) => lora(`enc.blocks.${l}.attn.qkv`, 3 * W, W)).concat(lora('head', 10, W));
    const cfg = { ...CONFIG, target_modules: String.raw`(.*\.blocks\..*\.attn\.qkv|model\.(head))` };
    expect(adapterWrapperPrefix(adapter, base)).toBe('model.');
    const strict = checkAdapterFit(cfg, adapter, base);
    expect(strict.extra).toHaveLength(5);
    const ok = checkAdapterFit(cfg, adapter, base, { allowWrapperPrefix: true });
    expect(ok).toMatchObject({ extra: [], missing: [], shapeMismatches: [], rankMismatches: [] });
    expect(ok.targets).toContain('head.weight');
    expect(ok.warnings.some((w) => w.includes('"model."'))).toBe(true);
    // a head's lora_B missing, and a rank the config does not say: named in the adapter's own names
    const noB = adapter.filter((t) => t.name !== 'base_model.model.model.head.lora_B.weight');
    expect(checkAdapterFit(cfg, noB, base, { allowWrapperPrefix: true }).shapeMismatches).toEqual([
      { name: 'base_model.model.model.head.lora_B', expected: [10, 4], got: [] },
    ]);
    const r8 = checkAdapterFit({ ...cfg, r: 8 }, adapter, base, { allowWrapperPrefix: true });
    expect(r8.rankMismatches[0]).toEqual({ module: 'model.enc.blocks.0.attn.qkv', expected: 8, rankA: 4, rankB: 4 });
    // a targeted base module with no weights is found through the wrapper's names
    const noLayer3 = adapter.filter((t) => !t.name.includes('blocks.3.'));
    expect(checkAdapterFit(cfg, noLayer3, base, { allowWrapperPrefix: true }).missing).toEqual([
      'enc.blocks.3.attn.qkv',
    ]);
  });

  it('readBaseHeaders lists every tensor of every shard', async () => {
    const h = await readBaseHeaders(join(shardedDir, 'model.safetensors.index.json'));
    expect(h.tensors.map((t) => t.name).sort()).toEqual(
      baseEntries()
        .map((e) => e.name)
        .sort(),
    );
  });
});
