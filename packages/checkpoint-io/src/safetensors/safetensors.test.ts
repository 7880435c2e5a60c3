import { readFile, mkdtemp, readdir, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromFloat32, toFloat32 } from '../dtype/convert.js';
import { DTYPES, DTYPE_ITEMSIZE } from '../dtype/dtypes.js';
import {
  SafetensorsDtypeError,
  SafetensorsHeaderError,
  SafetensorsHeaderTooLargeError,
  SafetensorsOffsetError,
  SafetensorsShapeError,
  SafetensorsTruncatedError,
  SafetensorsWriteError,
  ShardIndexError,
  TensorNotFoundError,
} from './errors.js';
import { openSafetensors } from './open.js';
import { SafetensorsFile } from './reader.js';
import { writeSafetensorsSharded } from './sharded-writer.js';
import { writeSafetensors, type SafetensorsEntry } from './writer.js';

const fixture = (p: string): string => fileURLToPath(new URL(`../../../../fixtures/${p}`, import.meta.url));
const scratch = (): Promise<string> => mkdtemp(join(tmpdir(), 'ckpt-st-'));

/** Builds a raw file: 8-byte LE length + header text (+ padding) + data. */
function rawFile(header: string, data: Uint8Array = new Uint8Array(0), lengthOverride?: bigint): Uint8Array {
  const h = Buffer.from(header, 'utf8');
  const out = new Uint8Array(8 + h.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(h.length), true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

async function openBytes(bytes: Uint8Array): Promise<SafetensorsFile> {
  const dir = await scratch();
  const p = join(dir, 'x.safetensors');
  await writeFile(p, bytes);
  return SafetensorsFile.open(p);
}

describe('reading files written by Python safetensors', () => {
  it('lists the PEFT adapter without reading data and reads one tensor', async () => {
    const r = await openSafetensors(fixture('peft-tiny-gemma/adapter/adapter_model.safetensors'));
    expect(r.metadata).toEqual({ format: 'pt' });
    const list = r.list();
    expect(list).toHaveLength(28); // 2 layers x 7 projections x A/B
    const a = r.info('base_model.model.model.layers.0.mlp.down_proj.lora_A.weight');
    expect(a).toEqual({
      name: 'base_model.model.model.layers.0.mlp.down_proj.lora_A.weight',
      dtype: 'F32',
      shape: [8, 128],
      byteLength: 4096,
    });
    const v = await r.readFloat32(a.name);
    expect(v.length).toBe(1024);
    expect(v.some((x) => x !== 0)).toBe(true);
    await expect(r.read('nope')).rejects.toBeInstanceOf(TensorNotFoundError);
    await r.close();
  });

  it('reads the int64 and float tensors of io.safetensors', async () => {
    const r = await openSafetensors(fixture('peft-tiny-gemma/io.safetensors'));
    const ids = await r.read('input_ids');
    expect(ids.dtype).toBe('I64');
    expect(ids.shape).toEqual([2, 12]);
    const vals = toFloat32(ids);
    expect(vals.every((x) => Number.isInteger(x) && x >= 0 && x < 256)).toBe(true);
    expect(r.info('logits_base').shape).toEqual([2, 12, 256]);
    await r.close();
  });

  it('streams tensors in file order', async () => {
    const r = await openSafetensors(fixture('peft-tiny-gemma/rslora/adapter_model.safetensors'));
    const names: string[] = [];
    for await (const [name, t] of r.tensors()) {
      names.push(name);
      expect(t.bytes.byteLength).toBe(r.info(name).byteLength);
    }
    expect(names).toEqual(r.list().map((t) => t.name));
    expect(names).toHaveLength(8);
    await r.close();
  });

  it('accepts the 40-byte ZeRO placeholder as a valid file with no tensors', async () => {
    const r = await openSafetensors(fixture('zero/zero3-w4-bf16/checkpoint-5000/adapter_model.safetensors'));
    expect(r.list()).toEqual([]);
    expect(r.metadata).toEqual({ format: 'pt' });
    await r.close();
  });
});

describe('byte-for-byte interop with Python safetensors', () => {
  const files = [
    'peft-tiny-gemma/adapter/adapter_model.safetensors',
    'peft-tiny-gemma/rslora/adapter_model.safetensors',
    'peft-tiny-gemma/base/model.safetensors',
    'peft-tiny-gemma/io.safetensors',
    'peft-tiny-gemma/step.safetensors',
    'zero/zero3-w4-bf16/expected.safetensors',
    'zero/zero2-w3-fp16/expected.safetensors',
    'zero/zero3-w4-bf16/checkpoint-5000/adapter_model.safetensors',
  ];
  // written by Python safetensors 0.8 (scripts/python-interop.py): 12 dtypes, two metadata keys
  files.push('../packages/checkpoint-io/test-data/python-resaved.safetensors');
  for (const f of files) {
    it(`re-writing ${f} with the same tensors and metadata gives identical bytes`, async () => {
      const src = await SafetensorsFile.open(fixture(f));
      // hand the tensors over in reverse name order: the writer must order them itself
      const entries: SafetensorsEntry[] = src
        .list()
        .sort((a, b) => (a.name < b.name ? 1 : -1))
        .map((t) => ({
          name: t.name,
          dtype: t.dtype,
          shape: t.shape,
          data: async () => (await src.read(t.name)).bytes,
        }));
      const out = join(await scratch(), 'out.safetensors');
      await writeSafetensors(out, entries, { metadata: src.metadata });
      await src.close();
      const [a, b] = await Promise.all([readFile(fixture(f)), readFile(out)]);
      expect(b.length).toBe(a.length);
      expect(Buffer.compare(a, b)).toBe(0);
    });
  }
});

describe('writer', () => {
  it('round-trips every dtype, 0-d and empty tensors, and pads the header with spaces to 8 bytes', async () => {
    const entries: SafetensorsEntry[] = DTYPES.map((dtype, i) => {
      const bytes = new Uint8Array(3 * DTYPE_ITEMSIZE[dtype]).map((_, j) => (i * 31 + j * 7) & 0xff);
      return { name: `t_${dtype}`, dtype, shape: [3], data: bytes };
    });
    entries.push({ name: 'scalar', dtype: 'F32', shape: [], data: new Uint8Array(new Float32Array([2.5]).buffer) });
    entries.push({ name: 'empty', dtype: 'BF16', shape: [0, 4], data: new Uint8Array(0) });
    const out = join(await scratch(), 'all.safetensors');
    await writeSafetensors(out, entries, { metadata: { b: '2', a: 'é"\n' } });
    const raw = await readFile(out);
    const n = Number(raw.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    const header = raw.subarray(8, 8 + n).toString('utf8');
    expect(header.startsWith('{"__metadata__":{"b":"2","a":"é\\"\\n"},')).toBe(true); // caller's order
    expect(header.trimEnd().endsWith('}')).toBe(true);
    expect(/^ *$/.test(header.slice(header.trimEnd().length))).toBe(true);
    const r = await openSafetensors(out);
    expect(r.metadata).toEqual({ a: 'é"\n', b: '2' });
    for (const e of entries) {
      const t = await r.read(e.name);
      expect(t.dtype).toBe(e.dtype);
      expect(t.shape).toEqual(e.shape);
      expect([...t.bytes]).toEqual([...(e.data as Uint8Array)]);
    }
    expect(await r.readFloat32('scalar')).toEqual(new Float32Array([2.5]));
    await r.close();
  });

  it('keeps the given order on request and accepts async iterables', async () => {
    async function* gen(): AsyncGenerator<SafetensorsEntry> {
      yield { name: 'z', dtype: 'U8', shape: [1], data: new Uint8Array([1]) };
      yield { name: 'a', dtype: 'F64', shape: [1], data: new Uint8Array(8) };
    }
    const out = join(await scratch(), 'given.safetensors');
    await writeSafetensors(out, gen(), { order: 'given' });
    const r = await SafetensorsFile.open(out);
    expect(r.list().map((t) => t.name)).toEqual(['z', 'a']);
    await r.close();
  });

  it('rejects bad entries and leaves no file behind', async () => {
    const dir = await scratch();
    const out = join(dir, 'bad.safetensors');
    await expect(
      writeSafetensors(out, [{ name: 'x', dtype: 'F32', shape: [2], data: new Uint8Array(4) }]),
    ).rejects.toBeInstanceOf(SafetensorsWriteError);
    const dup = { name: 'x', dtype: 'F32' as const, shape: [1], data: new Uint8Array(4) };
    await expect(writeSafetensors(out, [dup, dup])).rejects.toBeInstanceOf(SafetensorsWriteError);
    await expect(writeSafetensors(out, [{ ...dup, name: '__metadata__' }])).rejects.toBeInstanceOf(
      SafetensorsWriteError,
    );
    await expect(writeSafetensors(out, [{ ...dup, shape: [-1] }])).rejects.toBeInstanceOf(SafetensorsWriteError);
    expect(await readdir(dir)).toEqual([]);
  });

  it('writes BF16 converted from float32 that reads back within bf16 precision', async () => {
    const v = new Float32Array([0.1, -3.25, 1e-3, 1000]);
    const t = fromFloat32(v, [2, 2], 'BF16');
    const out = join(await scratch(), 'bf16.safetensors');
    await writeSafetensors(out, [{ name: 'w', ...t, data: t.bytes }]);
    const r = await openSafetensors(out);
    const back = await r.readFloat32('w');
    for (let i = 0; i < v.length; i++) expect(Math.abs(back[i]! - v[i]!)).toBeLessThanOrEqual(Math.abs(v[i]!) / 256);
    await r.close();
  });
});

describe('sharded write and transparent read', () => {
  const entries = (): SafetensorsEntry[] =>
    Array.from({ length: 7 }, (_, i) => ({
      name: `layers.${i}.weight`,
      dtype: 'F32' as const,
      shape: [i === 3 ? 64 : 8, 4],
      data: new Uint8Array(new Float32Array((i === 3 ? 64 : 8) * 4).fill(i).buffer),
    }));

  it('splits by maxShardSize with HF names and index, and reads back through the directory', async () => {
    const dir = await scratch();
    const res = await writeSafetensorsSharded(dir, entries(), { maxShardSize: 300, metadata: { format: 'pt' } });
    // 128-byte tensors, greedy as huggingface_hub: [0,1] then 3 (1024 > 300) alone, then [2,4] [5,6]
    expect(res.files).toEqual([
      'model-00001-of-00004.safetensors',
      'model-00002-of-00004.safetensors',
      'model-00003-of-00004.safetensors',
      'model-00004-of-00004.safetensors',
    ]);
    expect(res.totalSize).toBe(6 * 128 + 1024);
    const indexText = await readFile(join(dir, 'model.safetensors.index.json'), 'utf8');
    const index = JSON.parse(indexText) as { metadata: { total_size: number }; weight_map: Record<string, string> };
    expect(index.metadata.total_size).toBe(1792);
    expect(index.weight_map['layers.3.weight']).toBe('model-00002-of-00004.safetensors');
    expect(index.weight_map['layers.2.weight']).toBe('model-00003-of-00004.safetensors');
    expect(
      indexText.startsWith(
        '{\n  "metadata": {\n    "total_size": 1792\n  },\n  "weight_map": {\n    "layers.0.weight": "model-00001-of-00004.safetensors",',
      ),
    ).toBe(true);
    expect(indexText.endsWith('}\n')).toBe(true);
    const r = await openSafetensors(dir);
    expect(r.list().map((t) => t.name)).toEqual([0, 1, 3, 2, 4, 5, 6].map((i) => `layers.${i}.weight`)); // shard order
    expect(r.metadata).toEqual({ format: 'pt' });
    expect((await r.readFloat32('layers.6.weight'))[0]).toBe(6);
    let count = 0;
    for await (const [name, t] of r.tensors()) {
      expect(toFloat32(t)[0]).toBe(Number(name.split('.')[1]));
      count++;
    }
    expect(count).toBe(7);
    await r.close();
    // the index path itself opens too
    const r2 = await openSafetensors(join(dir, 'model.safetensors.index.json'));
    expect(r2.has('layers.5.weight')).toBe(true);
    await r2.close();
  });

  it('writes a single model.safetensors (no index) when everything fits, removing stale shards', async () => {
    const dir = await scratch();
    await writeSafetensorsSharded(dir, entries(), { maxShardSize: 300 });
    const res = await writeSafetensorsSharded(dir, entries(), { maxShardSize: 1 << 20 });
    expect(res).toEqual({ files: ['model.safetensors'], index: null, totalSize: 1792 });
    expect(await readdir(dir)).toEqual(['model.safetensors']);
    const r = await openSafetensors(dir);
    expect(r.list()).toHaveLength(7);
    await r.close();
  });

  it('rejects an index that disagrees with its shards or escapes the directory', async () => {
    const dir = await scratch();
    await writeSafetensorsSharded(dir, entries(), { maxShardSize: 300 });
    const indexPath = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(await readFile(indexPath, 'utf8')) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    const save = (v: unknown): Promise<void> => writeFile(indexPath, JSON.stringify(v));
    await save({ ...index, weight_map: { ...index.weight_map, 'layers.0.weight': '../evil.safetensors' } });
    await expect(openSafetensors(dir)).rejects.toBeInstanceOf(ShardIndexError);
    await save({
      ...index,
      weight_map: { ...index.weight_map, 'layers.0.weight': 'model-00002-of-00004.safetensors' },
    });
    await expect(openSafetensors(dir)).rejects.toThrow(/does not contain it/);
    await save({
      ...index,
      weight_map: { ...index.weight_map, 'layers.0.weight': 'model-00009-of-00009.safetensors' },
    });
    await expect(openSafetensors(dir)).rejects.toThrow(/missing shard/);
    const { ['layers.6.weight']: _dropped, ...rest } = index.weight_map;
    await save({ ...index, weight_map: rest });
    await expect(openSafetensors(dir)).rejects.toThrow(/does not list/);
    await save({ ...index, metadata: { total_size: 5 } });
    await expect(openSafetensors(dir)).rejects.toThrow(/total_size/);
    await writeFile(indexPath, '{not json');
    await expect(openSafetensors(dir)).rejects.toBeInstanceOf(ShardIndexError);
  });
});

describe('bad input gives typed errors', () => {
  const good = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}';
  it('truncated before the length prefix', async () => {
    await expect(openBytes(new Uint8Array([1, 2, 3]))).rejects.toBeInstanceOf(SafetensorsTruncatedError);
  });
  it('header length that lies (runs past the end)', async () => {
    await expect(openBytes(rawFile(good, new Uint8Array(8), 10_000n))).rejects.toBeInstanceOf(
      SafetensorsTruncatedError,
    );
  });
  it('huge header length, without allocating it', async () => {
    await expect(openBytes(rawFile(good, new Uint8Array(8), 2n ** 63n))).rejects.toBeInstanceOf(
      SafetensorsHeaderTooLargeError,
    );
    await expect(openBytes(rawFile(good, new Uint8Array(8), 100_000_001n))).rejects.toBeInstanceOf(
      SafetensorsHeaderTooLargeError,
    );
  });
  it('truncated data section', async () => {
    await expect(openBytes(rawFile(good, new Uint8Array(4)))).rejects.toBeInstanceOf(SafetensorsOffsetError);
  });
  it('trailing bytes after the last tensor', async () => {
    await expect(openBytes(rawFile(good, new Uint8Array(12)))).rejects.toBeInstanceOf(SafetensorsOffsetError);
  });
  it('invalid JSON, non-object, bad UTF-8, bad metadata', async () => {
    await expect(openBytes(rawFile('{"a":', new Uint8Array(0)))).rejects.toBeInstanceOf(SafetensorsHeaderError);
    await expect(openBytes(rawFile('[1,2]'))).rejects.toBeInstanceOf(SafetensorsHeaderError);
    const bad = rawFile('{"\xff":1}');
    bad.set([0x7b, 0x22, 0xff, 0x22], 8);
    await expect(openBytes(bad)).rejects.toBeInstanceOf(SafetensorsHeaderError);
    await expect(openBytes(rawFile('{"__metadata__":{"x":1}}'))).rejects.toBeInstanceOf(SafetensorsHeaderError);
  });
  it('unknown dtype', async () => {
    await expect(
      openBytes(rawFile('{"a":{"dtype":"F128","shape":[1],"data_offsets":[0,16]}}', new Uint8Array(16))),
    ).rejects.toBeInstanceOf(SafetensorsDtypeError);
  });
  it('wrong itemsize (shape x itemsize != byte range)', async () => {
    await expect(
      openBytes(rawFile('{"a":{"dtype":"F16","shape":[2],"data_offsets":[0,8]}}', new Uint8Array(8))),
    ).rejects.toBeInstanceOf(SafetensorsShapeError);
    await expect(
      openBytes(
        rawFile(
          '{"a":{"dtype":"F32","shape":[4294967296,4294967296,4294967296],"data_offsets":[0,8]}}',
          new Uint8Array(8),
        ),
      ),
    ).rejects.toBeInstanceOf(SafetensorsShapeError);
  });
  it('overlapping, gapped and out-of-bounds offsets', async () => {
    const overlap =
      '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}';
    await expect(openBytes(rawFile(overlap, new Uint8Array(12)))).rejects.toThrow(/overlap/);
    const gap = '{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}';
    await expect(openBytes(rawFile(gap, new Uint8Array(8)))).rejects.toThrow(/gap/);
    const oob = '{"a":{"dtype":"F32","shape":[2],"data_offsets":[1000000,1000008]}}';
    await expect(openBytes(rawFile(oob, new Uint8Array(8)))).rejects.toBeInstanceOf(SafetensorsOffsetError);
    const reversed = '{"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}}';
    await expect(openBytes(rawFile(reversed, new Uint8Array(8)))).rejects.toBeInstanceOf(SafetensorsOffsetError);
  });
  it('a directory with nothing to open', async () => {
    const dir = await scratch();
    await mkdir(join(dir, 'sub'));
    await expect(openSafetensors(dir)).rejects.toThrow(/no .safetensors file/);
  });
});

describe('names that are Object.prototype keys', () => {
  it('round-trips tensors and metadata named __proto__ / constructor, sharded too', async () => {
    const dir = await scratch();
    const entries: SafetensorsEntry[] = ['__proto__', 'constructor', 'toString'].map((name, i) => ({
      name,
      dtype: 'U8',
      shape: [2],
      data: new Uint8Array([i, i]),
    }));
    await writeSafetensors(join(dir, 'p.safetensors'), entries, {
      metadata: { __proto__: 'x' } as Record<string, string>,
    });
    const r = await openSafetensors(join(dir, 'p.safetensors'));
    expect(Object.keys(r.metadata ?? {})).toEqual([]);
    expect(
      r
        .list()
        .map((t) => t.name)
        .sort(),
    ).toEqual(['__proto__', 'constructor', 'toString']);
    await r.close();
    const sharded = join(dir, 'sh');
    await mkdir(sharded);
    await writeSafetensorsSharded(sharded, entries, { maxShardSize: 2 });
    const s = await openSafetensors(sharded);
    expect((await s.read('__proto__')).bytes[0]).toBe(0);
    expect((await s.read('constructor')).bytes[0]).toBe(1);
    await s.close();
  });

  it('keeps a "__proto__" metadata key read from a file', async () => {
    const f = await openBytes(rawFile('{"__metadata__":{"__proto__":"v"}}      '));
    expect(Object.keys(f.metadata!)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(f.metadata)).toBe(Object.prototype);
    await f.close();
  });
});

describe('chunked entries and ranged reads', () => {
  it('writes chunked data (one reused buffer), reads byte ranges into a caller buffer, and rejects a short stream', async () => {
    const dir = await scratch();
    const p = join(dir, 'chunked.safetensors');
    const shared = new Uint8Array(4);
    const entry: SafetensorsEntry = {
      name: 'w',
      dtype: 'U8',
      shape: [3, 4],
      data: {
        async *chunks() {
          for (let i = 0; i < 3; i++) {
            shared.fill(i + 1);
            yield shared;
          }
        },
      },
    };
    await writeSafetensors(p, [entry]);
    const r = await SafetensorsFile.open(p);
    expect([...(await r.read('w')).bytes]).toEqual([1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]);
    const into = new Uint8Array(8);
    const got = await r.readBytes('w', 3, 6, into);
    expect(got.buffer).toBe(into.buffer);
    expect([...got]).toEqual([1, 2, 2, 2, 2, 3]);
    await expect(r.readBytes('w', 10, 4)).rejects.toThrow(/outside the tensor/);
    await r.close();
    const short: SafetensorsEntry = {
      ...entry,
      data: {
        chunks: async function* () {
          yield new Uint8Array(5);
        },
      },
    };
    await expect(writeSafetensors(join(dir, 'short.safetensors'), [short])).rejects.toThrow(
      /needs 12 bytes but data has 5/,
    );
    expect((await readdir(dir)).sort()).toEqual(['chunked.safetensors']);
  });
});
