// SourceZipArchive (the ByteSource zip reader for Blobs and URLs) against ZipArchive (yauzl) on every zip
// fixture: same entries in the same order, same sizes, same bytes; and the same refusals on broken archives.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { enc, zipper } from '../../../test-support/pt-bytes.js';
import { blobSource } from '../../source/blob.js';
import { bytesSource } from '../../source/byte-source.js';
import { PtTruncatedError, PtZipError } from '../errors.js';
import { ZipArchive } from './archive.js';
import { SourceZipArchive } from './source-archive.js';

const FIX = fileURLToPath(new URL('../../../../../fixtures/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'pt-srczip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const zipFile = zipper(dir);

const zips = [
  ...['torch-1.13', 'torch-2.11'].flatMap((v) =>
    readdirSync(join(FIX, 'torch-pt', v))
      .filter((n) => n.endsWith('.pt') && !n.includes('legacy'))
      .map((n) => join(FIX, 'torch-pt', v, n)),
  ),
  ...['zero2-w3-fp16', 'zero3-w4-bf16'].flatMap((z) => {
    const d = join(FIX, 'zero', z, 'checkpoint-5000', 'global_step5000');
    return readdirSync(d).map((n) => join(d, n));
  }),
];

describe('SourceZipArchive', () => {
  it.each(zips.map((p) => [p.slice(FIX.length), p]))('%s: same entries and bytes as yauzl', async (_, path) => {
    const bytes = new Uint8Array(readFileSync(path));
    const handle = await open(path, 'r');
    const ref = await ZipArchive.open(path, handle, bytes.length);
    const ours = await SourceZipArchive.open(blobSource(new Blob([bytes]), path));
    try {
      expect(ours.order).toEqual(ref.order);
      for (const name of ref.order) {
        const a = ref.entries.get(name)!;
        const b = ours.entries.get(name)!;
        expect([b.compressionMethod, b.compressedSize, b.uncompressedSize]).toEqual([
          a.compressionMethod,
          a.compressedSize,
          a.uncompressedSize,
        ]);
        const whole = await ours.readAll(b, 2 ** 31);
        expect(Buffer.from(whole).equals(Buffer.from(await ref.readAll(a, 2 ** 31)))).toBe(true);
        if (b.uncompressedSize > 10) {
          const mid = await ours.readRange(b, 3, b.uncompressedSize - 7, new Uint8Array(b.uncompressedSize - 7));
          expect(Buffer.from(mid).equals(Buffer.from(whole.subarray(3, b.uncompressedSize - 4)))).toBe(true);
        }
      }
    } finally {
      ref.close();
      ours.close();
      await handle.close();
    }
  });

  it('reads a deflated entry (DecompressionStream) and byte ranges inside it', async () => {
    const data = enc('0123456789'.repeat(500));
    const comp = deflateRawSync(data);
    // one deflated entry, built by hand: local header + data + central directory + end record
    const name = enc('archive/data.bin');
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(comp.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const cd = Buffer.alloc(46);
    cd.writeUInt32LE(0x02014b50, 0);
    cd.writeUInt16LE(8, 10);
    cd.writeUInt32LE(comp.length, 20);
    cd.writeUInt32LE(data.length, 24);
    cd.writeUInt16LE(name.length, 28);
    const cdOffset = 30 + name.length + comp.length;
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(1, 8);
    end.writeUInt16LE(1, 10);
    end.writeUInt32LE(46 + name.length, 12);
    end.writeUInt32LE(cdOffset, 16);
    const zip = Buffer.concat([local, name, comp, cd, name, end]);
    const a = await SourceZipArchive.open(bytesSource(new Uint8Array(zip)));
    const e = a.entries.get('archive/data.bin')!;
    expect(Buffer.from(await a.readAll(e, 1e6)).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(await a.readRange(e, 1234, 20)).toString()).toBe('45678901234567890123');
  });

  it('refuses unsafe names and archives cut short, as ZipArchive does', async () => {
    const evil = await zipFile('evil.pt', [
      ['archive/data.pkl', Uint8Array.of(0x80, 2, 0x4e, 0x2e)],
      ['../evil', enc('x')],
    ]);
    await expect(SourceZipArchive.open(bytesSource(new Uint8Array(readFileSync(evil))))).rejects.toThrow(PtZipError);
    const good = new Uint8Array(readFileSync(zips[0]!));
    await expect(SourceZipArchive.open(bytesSource(good.subarray(0, good.length - 30)))).rejects.toThrow(
      PtTruncatedError,
    );
    await expect(SourceZipArchive.open(bytesSource(good.subarray(0, 10)))).rejects.toThrow(PtTruncatedError);
  });
});
