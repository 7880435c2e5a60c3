// Storages saved on a big-endian machine (zip `byteorder` = "big", legacy sys_info little_endian=False) are
// converted to little-endian on read.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TORCH_DTYPE_ITEMSIZE, swapUnit, type TorchDtype } from './torch/dtypes.js';
import { PtTensorData, picklePt } from './torch/pickler.js';
import { readPt } from './read.js';
import { byteswap } from './torch/storage.js';
import type { TorchTensor } from './torch/tensor.js';
import type { PickleDict } from './pickle/values.js';
import { ZipStreamWriter } from './zip/writer.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-be-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DTYPES: TorchDtype[] = [
  'float64',
  'float32',
  'float16',
  'bfloat16',
  'int64',
  'int32',
  'int16',
  'int8',
  'uint8',
  'bool',
  'complex64',
];
const le = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 29 + 3) & 0xff);

describe('big-endian checkpoints', () => {
  it('zip: byteorder "big" records are swapped per element', async () => {
    const want = new Map(
      DTYPES.map((d) => [d, d === 'bool' ? Uint8Array.of(1, 0, 1, 1) : le(4 * TORCH_DTYPE_ITEMSIZE[d])]),
    );
    const { pickle, storages } = picklePt(
      Object.fromEntries(DTYPES.map((d) => [d, new PtTensorData(d, [2, 2], want.get(d) as Uint8Array)])),
    );
    const chunks: Uint8Array[] = [];
    const zip = new ZipStreamWriter({ write: async (b) => void chunks.push(b.slice()) });
    await zip.addEntry('archive/data.pkl', pickle.length, [pickle]);
    await zip.addEntry('archive/byteorder', 3, [new TextEncoder().encode('big')]);
    for (const [i, s] of storages.entries()) {
      const d = DTYPES[i] as TorchDtype;
      const big = (await s.read(0, s.nbytes)).slice();
      byteswap(big, swapUnit(d));
      await zip.addEntry(`archive/data/${s.key}`, big.length, [big]);
    }
    await zip.finish();
    const p = join(dir, 'big.pt');
    writeFileSync(p, Buffer.concat(chunks));
    const pt = await readPt(p);
    try {
      expect(pt.byteorder).toBe('big');
      for (const d of DTYPES) {
        const t = (pt.root as PickleDict).get(d) as TorchTensor;
        expect(Array.from(await t.readBytes()), d).toEqual(Array.from(want.get(d) as Uint8Array));
        const w = want.get(d) as Uint8Array;
        const isz = TORCH_DTYPE_ITEMSIZE[d];
        expect(Array.from(await t.readElements(1, 2)), d).toEqual(Array.from(w.subarray(isz, 3 * isz)));
      }
    } finally {
      await pt.close();
    }
  });

  it('legacy: sys_info little_endian=False swaps element counts and data', async () => {
    const enc = (s: string): number[] => [...new TextEncoder().encode(s)];
    const u32 = (n: number): number[] => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24];
    const str = (s: string): number[] => [0x58, ...u32(enc(s).length), ...enc(s)];
    const magic = [0x80, 2, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e];
    const proto = [0x80, 2, 0x4d, 0xe9, 0x03, 0x2e];
    const sys = [
      0x80,
      2,
      0x7d,
      0x28,
      ...str('protocol_version'),
      0x4d,
      0xe9,
      0x03,
      ...str('little_endian'),
      0x89,
      0x75,
      0x2e,
    ];
    const obj = [
      0x80,
      2,
      ...enc('ctorch._utils\n_rebuild_tensor_v2\n'),
      0x28,
      0x28,
      ...str('storage'),
      ...enc('ctorch\nFloatStorage\n'),
      ...str('k1'),
      ...str('cpu'),
      0x4b,
      3,
      0x4e,
      0x74,
      0x51,
      0x4b,
      0,
      0x4b,
      3,
      0x85,
      0x4b,
      1,
      0x85,
      0x89,
      0x7d,
      0x74,
      0x52,
      0x2e,
    ];
    const keys = [0x80, 2, 0x5d, ...str('k1'), 0x61, 0x2e];
    const values = new Float32Array([1.5, -2, 1e-3]);
    const data = new Uint8Array(values.buffer.slice(0));
    byteswap(data, 4);
    const count = [0, 0, 0, 0, 0, 0, 0, 3]; // int64 3, big-endian
    const p = join(dir, 'big-legacy.pt');
    writeFileSync(p, Uint8Array.from([...magic, ...proto, ...sys, ...obj, ...keys, ...count, ...data]));
    const pt = await readPt(p);
    try {
      expect(pt.format).toBe('legacy');
      expect(pt.byteorder).toBe('big');
      const t = pt.root as TorchTensor;
      const b = await t.readBytes();
      expect(Array.from(new Float32Array(b.buffer, b.byteOffset, 3))).toEqual(Array.from(values));
    } finally {
      await pt.close();
    }
  });
});
