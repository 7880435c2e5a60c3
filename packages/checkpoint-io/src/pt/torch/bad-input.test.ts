// torch objects in hostile or broken pickles: storages and tensors that claim more than the file holds,
// rebuild calls without storages, unknown persistent ids — typed errors, nothing allocated.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cat, enc, le32, zipper } from '../../../test-support/pt-bytes.js';
import { PtFormatError, PtTorchObjectError, PtTruncatedError } from '../errors.js';
import { unpickle } from '../pickle/unpickler.js';
import { readPt } from '../read.js';
import { torchCall } from './globals.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const zipFile = zipper(dir);

describe('malformed torch objects', () => {
  const pid = (numel: number): number[] => [
    0x28,
    0x58,
    ...le32(7),
    ...enc('storage'),
    ...enc('ctorch\nFloatStorage\n'),
    0x58,
    ...le32(1),
    ...enc('0'),
    0x58,
    ...le32(3),
    ...enc('cpu'),
    0x8a,
    8,
    ...new Uint8Array(new BigInt64Array([BigInt(numel)]).buffer),
    0x74,
    0x51,
  ];
  const rebuild = (numel: number, shape: number[]): Uint8Array =>
    cat(
      [0x80, 2],
      'ctorch._utils\n_rebuild_tensor_v2\n',
      [0x28],
      pid(numel),
      [0x4b, 0],
      [0x28, ...shape.flatMap((d) => [0x8a, 8, ...new Uint8Array(new BigInt64Array([BigInt(d)]).buffer)]), 0x74],
      [0x28, ...shape.flatMap(() => [0x4b, 1]), 0x74],
      [0x89, 0x7d, 0x74, 0x52, 0x2e],
    );

  it('a storage claiming 2^50 elements over a 16-byte record → PtTruncatedError, nothing allocated', async () => {
    const p = await zipFile('bignumel.pt', [
      ['archive/data.pkl', rebuild(2 ** 50, [4])],
      ['archive/data/0', new Uint8Array(16)],
    ]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTruncatedError);
  });

  it('a tensor whose size/stride reach past its storage → PtTorchObjectError', async () => {
    const p = await zipFile('oob.pt', [
      ['archive/data.pkl', rebuild(4, [2 ** 40, 2 ** 40])],
      ['archive/data/0', new Uint8Array(16)],
    ]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTorchObjectError);
  });

  it('a missing data/<key> record → PtFormatError', async () => {
    const p = await zipFile('missing.pt', [['archive/data.pkl', rebuild(4, [4])]]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtFormatError);
  });

  it('_rebuild_tensor_v2 without a storage → PtTorchObjectError', () => {
    const p = cat(
      [0x80, 2],
      'ctorch._utils\n_rebuild_tensor_v2\n',
      [0x28, 0x4e, 0x4b, 0, 0x29, 0x29, 0x89, 0x4e, 0x74, 0x52, 0x2e],
    );
    expect(() => unpickle(p, { call: torchCall('x') })).toThrow(PtTorchObjectError);
  });

  it('persistent ids other than storages are refused', async () => {
    const p = await zipFile('persid.pt', [
      ['archive/data.pkl', cat([0x80, 2, 0x28], 'X', le32(6), 'module', [0x74, 0x51, 0x2e])],
    ]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTorchObjectError);
  });
});
