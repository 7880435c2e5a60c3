// readPtSource (Blob / URL / any ByteSource: the browser's .pt reader) gives what readPt gives on a file, on every
// torch.save fixture (zip and legacy formats, torch 1.13 and 2.11, DeepSpeed ZeRO states).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { blobSource } from '../source/blob.js';
import { bytesSource } from '../source/byte-source.js';
import { PtFormatError, PtTruncatedError } from './errors.js';
import { readPt } from './read.js';
import { readPtSource } from './read-source.js';

const FIX = fileURLToPath(new URL('../../../../fixtures/', import.meta.url));
const files = [
  ...['torch-1.13', 'torch-2.11'].flatMap((v) =>
    readdirSync(join(FIX, 'torch-pt', v))
      .filter((n) => n.endsWith('.pt'))
      .map((n) => join(FIX, 'torch-pt', v, n)),
  ),
  ...['zero2-w3-fp16', 'zero3-w4-bf16'].flatMap((z) => {
    const d = join(FIX, 'zero', z, 'checkpoint-5000', 'global_step5000');
    return readdirSync(d).map((n) => join(d, n));
  }),
];

describe('readPtSource', () => {
  it.each(files.map((p) => [p.slice(FIX.length), p]))('%s: same tree and tensor bytes as readPt', async (_, path) => {
    const want = await readPt(path);
    const got = await readPtSource(blobSource(new Blob([readFileSync(path)]), path));
    try {
      expect([got.format, got.byteorder, got.archiveName, got.version]).toEqual([
        want.format,
        want.byteorder,
        want.archiveName,
        want.version,
      ]);
      const a = want.tensors();
      const b = got.tensors();
      expect(b.map(([n, t]) => [n, t.dtype, t.shape])).toEqual(a.map(([n, t]) => [n, t.dtype, t.shape]));
      for (let i = 0; i < a.length; i++) {
        const x = await a[i]![1].toRaw();
        const y = await b[i]![1].toRaw();
        expect(Buffer.from(y.bytes).equals(Buffer.from(x.bytes)), a[i]![0]).toBe(true);
      }
    } finally {
      await want.close();
      await got.close();
    }
  });

  it('refuses what readPt refuses: not a checkpoint, cut short', async () => {
    await expect(readPtSource(bytesSource(new TextEncoder().encode('{"a": 1}'), 'x.json'))).rejects.toThrow(
      PtFormatError,
    );
    const zip = new Uint8Array(readFileSync(files.find((f) => f.endsWith('state_dict_f32.pt'))!));
    await expect(readPtSource(bytesSource(zip.subarray(0, zip.length >> 1), 'half.pt'))).rejects.toThrow(
      PtTruncatedError,
    );
    const legacy = new Uint8Array(readFileSync(files.find((f) => f.endsWith('state_dict_f32_legacy.pt'))!));
    await expect(readPtSource(bytesSource(legacy.subarray(0, 40), 'cut.pt'))).rejects.toThrow(PtTruncatedError);
  });
});
