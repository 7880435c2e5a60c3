import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRangeServer, type RangeServer } from '../../test-support/range-server.js';
import { ShardIndexError, TensorNotFoundError } from '../safetensors/errors.js';
import { openSafetensorsBlob, openSafetensorsFiles, openSafetensorsUrl } from '../safetensors/open-source.js';
import { SafetensorsFile } from '../safetensors/reader.js';
import { openSafetensorsSource } from '../safetensors/source-reader.js';
import { writeSafetensorsSharded } from '../safetensors/sharded-writer.js';
import { writeSafetensors } from '../safetensors/writer.js';
import { blobSource } from './blob.js';
import { bytesSource } from './byte-source.js';
import {
  ContentRangeError,
  RangeNotSupportedError,
  SourceChangedError,
  SourceClosedError,
  SourceHttpError,
  SourceRangeError,
  SourceShortReadError,
} from './errors.js';
import { openFileSource } from './file.js';
import { openUrlSource } from './url.js';

const fixture = (p: string): string => fileURLToPath(new URL(`../../../../fixtures/${p}`, import.meta.url));
const ADAPTER = fixture('peft-tiny-gemma/adapter/adapter_model.safetensors');
const BASE = fixture('peft-tiny-gemma/base/model.safetensors');

/** Every tensor's bytes through the file reader, the reference. */
async function fileTensors(path: string): Promise<Map<string, Uint8Array>> {
  const f = await SafetensorsFile.open(path);
  const out = new Map<string, Uint8Array>();
  for await (const [name, t] of f.tensors()) out.set(name, t.bytes);
  await f.close();
  return out;
}

describe('sources give the same tensors as the file reader', () => {
  it('Blob (Node 20 Blob), file source and in-memory bytes', async () => {
    const bytes = new Uint8Array(await readFile(BASE));
    const want = await fileTensors(BASE);
    for (const open of [
      () => openSafetensorsBlob(new Blob([bytes]), 'model.safetensors'),
      async () => openSafetensorsSource(await openFileSource(BASE)),
      () => openSafetensorsSource(bytesSource(bytes)),
    ]) {
      const r = await open();
      expect(r.list().map((t) => t.name)).toEqual([...want.keys()]);
      for await (const [name, t] of r.tensors())
        expect(Buffer.from(t.bytes).equals(Buffer.from(want.get(name)!))).toBe(true);
      const name = r.list()[0]!.name;
      const part = await r.readBytes(name, 4, 8, new Uint8Array(16));
      expect([...part]).toEqual([...want.get(name)!.subarray(4, 12)]);
      await r.close();
      await expect(r.read(name)).rejects.toThrow(/closed/);
    }
  });

  it('a dropped folder of shards (Blobs) opens as one checked set; a missing shard is named', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-src-'));
    const base = await SafetensorsFile.open(BASE);
    const entries = [];
    for await (const [name, t] of base.tensors()) entries.push({ name, dtype: t.dtype, shape: t.shape, data: t.bytes });
    await base.close();
    await writeSafetensorsSharded(dir, entries, { maxShardSize: 40_000 });
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.safetensors')).length).toBeGreaterThan(1);
    const files = await Promise.all(
      names.map(async (n) => ({ name: `folder/${n}`, blob: new Blob([await readFile(join(dir, n))]) })),
    );
    const r = await openSafetensorsFiles(files);
    const want = await fileTensors(BASE);
    expect(r.list().length).toBe(want.size);
    for (const [name, bytes] of want)
      expect(Buffer.from((await r.read(name)).bytes).equals(Buffer.from(bytes))).toBe(true);
    await r.close();
    const shard1 = files.find((f) => /model-00001-of-\d+\.safetensors$/.test(f.name))!;
    await expect(openSafetensorsFiles(files.filter((f) => f !== shard1))).rejects.toThrow(ShardIndexError);
    await expect(openSafetensorsFiles(files.filter((f) => f !== shard1))).rejects.toThrow(/missing shard model-00001/);
  });

  it('a Blob that shrinks under the reader is a short read; reads outside it a range error', async () => {
    const src = blobSource(new Blob([new Uint8Array(10)]), 'x.bin');
    await expect(src.read(8, 4)).rejects.toThrow(SourceRangeError);
    await expect(src.read(-1, 1)).rejects.toThrow(SourceRangeError);
    const lying = blobSource({ size: 10, slice: () => new Blob([new Uint8Array(3)]) } as unknown as Blob, 'y.bin');
    await expect(lying.read(0, 10)).rejects.toThrow(SourceShortReadError);
    await src.close();
    await expect(src.read(0, 1)).rejects.toThrow(SourceClosedError);
  });
});

describe('URL source (Range requests against a local server)', () => {
  let server: RangeServer;
  let big: Uint8Array;
  const T = 256 * 1024; // bytes per tensor of the big file
  let shardFiles: string[];

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-url-'));
    const data = (seed: number) => Uint8Array.from({ length: T }, (_, i) => (i * 31 + seed) & 255);
    await writeSafetensors(
      join(dir, 'big.safetensors'),
      ['a', 'b', 'c'].map((name, i) => ({ name, dtype: 'U8' as const, shape: [T], data: data(i) })),
      { metadata: { format: 'pt' } },
    );
    big = new Uint8Array(await readFile(join(dir, 'big.safetensors')));
    const files = new Map<string, Uint8Array>([
      ['/big.safetensors', big],
      ['/adapter_model.safetensors', new Uint8Array(await readFile(ADAPTER))],
      ['/empty.bin', new Uint8Array(0)],
    ]);
    const shardDir = join(dir, 'sharded');
    const base = await SafetensorsFile.open(BASE);
    const entries = [];
    for await (const [name, t] of base.tensors()) entries.push({ name, dtype: t.dtype, shape: t.shape, data: t.bytes });
    await base.close();
    await writeSafetensorsSharded(shardDir, entries, { maxShardSize: 40_000 });
    shardFiles = await readdir(shardDir);
    for (const n of shardFiles) files.set(`/repo/${n}`, new Uint8Array(await readFile(join(shardDir, n))));
    server = await startRangeServer(files);
  });
  afterAll(() => server.close());

  it('fetches the first 100 kB, then only the tensor asked for', async () => {
    server.log.length = 0;
    const r = await openSafetensorsUrl(server.url('/big.safetensors'));
    expect(r.list().map((t) => [t.name, t.byteLength])).toEqual([
      ['a', T],
      ['b', T],
      ['c', T],
    ]);
    expect(server.log).toEqual([{ path: '/big.safetensors', range: 'bytes=0-99999', sent: 100_000 }]);
    const b = await r.read('b');
    const header = 8 + Number(new DataView(big.buffer).getBigUint64(0, true));
    expect(Buffer.from(b.bytes).equals(Buffer.from(big.subarray(header + T, header + 2 * T)))).toBe(true);
    expect(server.log.slice(1)).toEqual([
      { path: '/big.safetensors', range: `bytes=${header + T}-${header + 2 * T - 1}`, sent: T },
    ]);
    expect(server.log.reduce((a, x) => a + x.sent, 0)).toBe(100_000 + T);
    await r.close();
  });

  it('with an 8-byte first request: exactly the length prefix, the header, and the tensors read', async () => {
    server.log.length = 0;
    const src = await openUrlSource(server.url('/big.safetensors'), { prefetchBytes: 8 });
    const r = await openSafetensorsSource(src);
    const headerLength = r.headerLength;
    await r.read('c');
    expect(server.log.map((x) => x.range)).toEqual([
      'bytes=0-7',
      `bytes=8-${8 + headerLength - 1}`,
      `bytes=${8 + headerLength + 2 * T}-${8 + headerLength + 3 * T - 1}`,
    ]);
    expect(src.bytesFetched).toBe(8 + headerLength + T);
    expect(src.requests).toBe(3);
    expect(big.byteLength).toBe(8 + headerLength + 3 * T);
    await r.close();
  });

  it('the PEFT fixture read over HTTP equals the file, byte for byte', async () => {
    const want = await fileTensors(ADAPTER);
    const r = await openSafetensorsUrl(server.url('/adapter_model.safetensors'), { prefetchBytes: 64 });
    expect(r.metadata).toEqual({ format: 'pt' });
    for (const [name, bytes] of want)
      expect(Buffer.from((await r.read(name)).bytes).equals(Buffer.from(bytes))).toBe(true);
    await expect(r.read('nope')).rejects.toThrow(TensorNotFoundError);
    await r.close();
  });

  it('a sharded index URL resolves its shards beside it; a missing shard is a ShardIndexError', async () => {
    const index = shardFiles.find((n) => n.endsWith('.index.json'))!;
    const r = await openSafetensorsUrl(server.url(`/repo/${index}`));
    const want = await fileTensors(BASE);
    expect(r.list().length).toBe(want.size);
    const name = [...want.keys()][3]!;
    expect(Buffer.from((await r.read(name)).bytes).equals(Buffer.from(want.get(name)!))).toBe(true);
    await r.close();
    const shard = shardFiles.find((n) => n.endsWith('.safetensors'))!;
    const body = await (await fetch(server.url(`/repo/${index}`))).arrayBuffer();
    const lonely = await startRangeServer(new Map([[`/lonely/${index}`, new Uint8Array(body)]]));
    await expect(openSafetensorsUrl(lonely.url(`/lonely/${index}`))).rejects.toThrow(ShardIndexError);
    await expect(openSafetensorsUrl(lonely.url(`/lonely/${index}`))).rejects.toThrow(`missing shard ${shard}`);
    await lonely.close();
  });

  it('an empty file opens with size 0; a missing one is HTTP 404', async () => {
    const src = await openUrlSource(server.url('/empty.bin'));
    expect(src.size).toBe(0);
    const err = await openUrlSource(server.url('/nope.safetensors')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceHttpError);
    expect((err as SourceHttpError).status).toBe(404);
  });

  describe('bad server answers are typed errors', () => {
    it('no Range support (200 + whole file) → RangeNotSupportedError, at open and later', async () => {
      server.behave('/big.safetensors', 'no-range');
      await expect(openUrlSource(server.url('/big.safetensors'))).rejects.toThrow(RangeNotSupportedError);
      const src = await openUrlSource(server.url('/adapter_model.safetensors'), { prefetchBytes: 8 });
      server.behave('/adapter_model.safetensors', 'no-range');
      await expect(src.read(8, 16)).rejects.toThrow(RangeNotSupportedError);
      server.behave('/big.safetensors', 'ok');
      server.behave('/adapter_model.safetensors', 'ok');
    });

    it('a short body → SourceShortReadError', async () => {
      server.behave('/big.safetensors', 'short');
      await expect(openUrlSource(server.url('/big.safetensors'))).rejects.toThrow(SourceShortReadError);
      server.behave('/big.safetensors', 'short', true);
      const r = await openSafetensorsUrl(server.url('/big.safetensors'));
      await expect(r.read('a')).rejects.toThrow(/got \d+ of the 262144 bytes/);
      server.behave('/big.safetensors', 'ok');
    });

    it('a Content-Range for other bytes, or none → ContentRangeError', async () => {
      server.behave('/big.safetensors', 'wrong-range', true);
      let r = await openSafetensorsUrl(server.url('/big.safetensors'));
      await expect(r.read('a')).rejects.toThrow(ContentRangeError);
      server.behave('/big.safetensors', 'no-content-range');
      await expect(openUrlSource(server.url('/big.safetensors'))).rejects.toThrow(ContentRangeError);
      server.behave('/big.safetensors', 'wrong-range');
      await expect(openUrlSource(server.url('/big.safetensors'))).rejects.toThrow(ContentRangeError);
      server.behave('/big.safetensors', 'grown', true);
      r = await openSafetensorsUrl(server.url('/big.safetensors'));
      await expect(r.read('b')).rejects.toThrow(SourceChangedError);
      server.behave('/big.safetensors', 'ok');
    });
  });
});
