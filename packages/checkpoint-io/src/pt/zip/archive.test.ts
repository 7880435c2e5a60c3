// Unsafe or broken zip containers: zip-slip names, missing data.pkl, sizes and counts the file cannot hold.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { enc, zipper } from '../../../test-support/pt-bytes.js';
import { PtError, PtFormatError, PtTruncatedError, PtZipError } from '../errors.js';
import { readPt } from '../read.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIX = fileURLToPath(new URL('../../../../../fixtures/', import.meta.url));
const zipFile = zipper(dir);

describe('unsafe or broken zip containers', () => {
  it.each(['../evil', 'archive/../../evil', '/etc/evil', 'C:/evil', 'archive\\..\\evil'])(
    'entry %s → PtZipError',
    async (name) => {
      const p = await zipFile(`unsafe-${name.replace(/[^a-z]/gi, '_')}.pt`, [
        ['archive/data.pkl', Uint8Array.of(0x80, 2, 0x4e, 0x2e)],
        [name, enc('x')],
      ]);
      await expect(readPt(p)).rejects.toBeInstanceOf(PtZipError);
    },
  );

  it('a zip without data.pkl → PtFormatError', async () => {
    const p = await zipFile('nodata.pt', [['archive/other', enc('x')]]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtFormatError);
  });

  it('a central directory entry claiming more bytes than the file has → PtTruncatedError', async () => {
    const buf = Buffer.from(readFileSync(join(FIX, 'torch-pt/torch-2.11/views.pt')));
    const cd = buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    buf.writeUInt32LE(0x7fffffff, cd + 20);
    buf.writeUInt32LE(0x7fffffff, cd + 24);
    const p = join(dir, 'bigentry.pt');
    writeFileSync(p, buf);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTruncatedError);
  });

  it('an end record claiming 60000 entries → typed error', async () => {
    const buf = Buffer.from(readFileSync(join(FIX, 'torch-pt/torch-2.11/views.pt')));
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    buf.writeUInt16LE(60000, eocd + 8);
    buf.writeUInt16LE(60000, eocd + 10);
    // torch (miniz) also writes a zip64 end record, whose counts win.
    const eocd64 = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
    if (eocd64 >= 0) {
      buf.writeBigUInt64LE(60000n, eocd64 + 24);
      buf.writeBigUInt64LE(60000n, eocd64 + 32);
    }
    const p = join(dir, 'manyentries.pt');
    writeFileSync(p, buf);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtError);
  });

  it('not a checkpoint at all → PtFormatError; tiny → PtTruncatedError', async () => {
    const json = join(dir, 'x.json');
    writeFileSync(json, '{"a": 1}');
    await expect(readPt(json)).rejects.toThrow(/JSON/);
    const tiny = join(dir, 'tiny.pt');
    writeFileSync(tiny, 'PK');
    await expect(readPt(tiny)).rejects.toBeInstanceOf(PtTruncatedError);
    const plain = join(dir, 'plain.pkl');
    writeFileSync(plain, Uint8Array.of(0x80, 2, 0x4b, 1, 0x2e));
    await expect(readPt(plain)).rejects.toBeInstanceOf(PtFormatError);
  });
});
