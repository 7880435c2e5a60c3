// Laziness, measured: opening a file reads its pickle and zip directory only; readElements reads only the bytes
// it returns (plus one local zip header per record, once). This is what streaming multi-GB ZeRO shards relies on.
import { mkdtempSync, rmSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { PtTensorData } from './torch/pickler.js';
import { readPt } from './read.js';
import type { TorchTensor } from './torch/tensor.js';
import type { PickleDict } from './pickle/values.js';
import { writePt } from './write.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('lazy reads', () => {
  it('open reads ~the pickle; readElements reads ~only its range', async () => {
    const p = join(dir, 'shard.pt');
    const n = 8 << 20; // 8M floats = 32 MiB per group
    const group = new Float32Array(n);
    for (let i = 0; i < n; i += 4099) group[i] = i;
    await writePt(p, {
      optimizer_state_dict: {
        fp32_flat_groups: [
          new PtTensorData('float32', [n], new Uint8Array(group.buffer)),
          new PtTensorData('float32', [n], new Uint8Array(group.buffer)),
        ],
      },
    });

    const probe = await open(p, 'r');
    const proto = Object.getPrototypeOf(probe) as FileHandle;
    await probe.close();
    let bytes = 0;
    const original = proto.read;
    const spy = vi.spyOn(proto, 'read').mockImplementation(async function (this: FileHandle, ...args: unknown[]) {
      const r = await (original as (...a: unknown[]) => Promise<{ bytesRead: number; buffer: unknown }>).apply(
        this,
        args,
      );
      bytes += r.bytesRead;
      return r as never;
    });
    try {
      const pt = await readPt(p);
      try {
        const openBytes = bytes;
        // yauzl scans the last 64 KiB for the end record; then the central directory and data.pkl. File: 64 MiB.
        expect(openBytes).toBeLessThan(72 * 1024);
        const t = ((pt.root as PickleDict).get('optimizer_state_dict') as PickleDict).get(
          'fp32_flat_groups',
        ) as TorchTensor[];
        bytes = 0;
        const part = await t[1]!.readElements(4099 * 1000, 1000);
        expect(new Float32Array(part.buffer, part.byteOffset, 1)[0]).toBe(4099 * 1000);
        expect(bytes).toBeGreaterThanOrEqual(4000);
        expect(bytes).toBeLessThan(4000 + 256); // + the record's local header, read once
        bytes = 0;
        await t[1]!.readElements(7, 10);
        expect(bytes).toBe(40);
      } finally {
        await pt.close();
      }
    } finally {
      spy.mockRestore();
    }
  });
});
