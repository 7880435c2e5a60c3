// Archives re-zipped with deflate (not what torch writes, but what `zip -r` or Python's zipfile can produce)
// still read, including byte ranges from the middle of a compressed record.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { PtError } from './errors.js';
import { readPt } from './read.js';
import { diffAgainstJson, parsePythonJson } from '../../test-support/pt-json.js';
import { ZipArchive } from './zip/archive.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-deflate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ROOT = fileURLToPath(new URL('../../../../fixtures/torch-pt/torch-2.11/', import.meta.url));

/** A minimal zip writer with deflated entries (no data descriptors), for this test only. */
function deflateZip(entries: Array<[string, Uint8Array]>, corrupt?: string): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    let comp = deflateRawSync(data);
    if (name === corrupt)
      comp = Buffer.concat([comp.subarray(0, comp.length >> 1), Buffer.alloc(comp.length - (comp.length >> 1), 0xff)]);
    const n = Buffer.from(name);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(comp.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(20, 4);
    cd.writeUInt16LE(20, 6);
    cd.writeUInt16LE(8, 10);
    cd.writeUInt32LE(crc, 16);
    cd.writeUInt32LE(comp.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(n.length, 28);
    cd.writeUInt32LE(offset, 42);
    parts.push(local, n, comp);
    central.push(cd, n);
    offset += 30 + n.length + comp.length;
  }
  const cdBuf = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cdBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, cdBuf, end]);
}

async function entriesOf(path: string): Promise<Array<[string, Uint8Array]>> {
  const h = await open(path, 'r');
  try {
    const a = await ZipArchive.open(path, h, (await h.stat()).size);
    const out: Array<[string, Uint8Array]> = [];
    for (const name of a.order) out.push([name, await a.readAll(a.entries.get(name)!, 1 << 24)]);
    a.close();
    return out;
  } finally {
    await h.close();
  }
}

describe('deflated zip records', () => {
  it('a large (8 MiB) corrupt deflated record is a typed error', async () => {
    const big = new Uint8Array(8 << 20);
    for (let i = 0; i < big.length; i++) big[i] = (i * 2654435761) >>> 24;
    const pkl = (await entriesOf(join(ROOT, 'views.pt'))).find(([n]) => n.endsWith('data.pkl'))!;
    const p = join(dir, 'big-corrupt.zip');
    writeFileSync(p, deflateZip([pkl, ['views/data/big', big]], 'views/data/big'));
    const h = await open(p, 'r');
    try {
      const a = await ZipArchive.open(p, h, (await h.stat()).size);
      await expect(a.readAll(a.entries.get('views/data/big')!, 1 << 24)).rejects.toBeInstanceOf(PtError);
      a.close();
    } finally {
      await h.close();
    }
  });

  it('views.pt re-zipped with deflate reads to exactly its JSON; slices come from the middle of the stream', async () => {
    const p = join(dir, 'views-deflated.pt');
    writeFileSync(p, deflateZip(await entriesOf(join(ROOT, 'views.pt'))));
    const expected = parsePythonJson(readFileSync(join(ROOT, 'views.json'), 'utf8')) as { value: unknown };
    const pt = await readPt(p);
    try {
      expect(await diffAgainstJson(pt.root, expected.value)).toEqual([]);
      const t = new Map(pt.tensors()).get('strided')!;
      const b = await t.readElements(5, 4);
      expect(Array.from(new Float32Array(b.buffer, b.byteOffset, 4))).toEqual([10, 12, 14, 16]);
    } finally {
      await pt.close();
    }
  });

  it('a corrupt deflate stream is a typed error when the tensor is read', async () => {
    const p = join(dir, 'views-corrupt.pt');
    writeFileSync(p, deflateZip(await entriesOf(join(ROOT, 'views.pt')), 'views/data/0'));
    const pt = await readPt(p);
    try {
      const err = await Promise.all(pt.tensors().map(([, t]) => t.readBytes())).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(PtError);
    } finally {
      await pt.close();
    }
  });
});
