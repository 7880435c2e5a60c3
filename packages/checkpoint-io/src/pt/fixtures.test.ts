// Acceptance: every torch.save fixture (torch 1.13 and 2.11, zip and legacy) reads to exactly its JSON.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readPt } from './read.js';
import { diffAgainstJson, parsePythonJson } from '../../test-support/pt-json.js';

const ROOT = fileURLToPath(new URL('../../../../fixtures/torch-pt/', import.meta.url));
const dirs = ['torch-1.13', 'torch-2.11'];

describe.each(dirs)('torch-pt/%s', (dir) => {
  const cases = readdirSync(join(ROOT, dir))
    .filter((f) => f.endsWith('.pt'))
    .map((f) => f.slice(0, -3));

  it('has the five documented cases', () => {
    expect(cases.sort()).toEqual(['dtypes', 'state_dict_f32', 'state_dict_f32_legacy', 'trainer_state', 'views']);
  });

  it.each(cases)('%s reads to exactly its JSON', async (name) => {
    const expected = parsePythonJson(readFileSync(join(ROOT, dir, `${name}.json`), 'utf8')) as {
      value: unknown;
      legacy: boolean;
    };
    const pt = await readPt(join(ROOT, dir, `${name}.pt`));
    try {
      expect(pt.format).toBe(expected.legacy ? 'legacy' : 'zip');
      expect(await diffAgainstJson(pt.root, expected.value)).toEqual([]);
    } finally {
      await pt.close();
    }
  });
});

describe('views share storages as torch does', () => {
  it('shared_a and shared_b view one storage; the transposed view is not contiguous', async () => {
    const pt = await readPt(join(ROOT, 'torch-2.11', 'views.pt'));
    try {
      const t = new Map(pt.tensors());
      expect(t.get('shared_a')?.storage).toBe(t.get('shared_b')?.storage);
      expect(t.get('shared_b')?.storageOffset).toBe(6);
      expect(t.get('transposed')?.isContiguous).toBe(false);
      expect(t.get('transposed')?.stride).toEqual([1, 4]);
      expect(t.get('strided')?.stride).toEqual([2]);
      expect(t.get('scalar')?.shape).toEqual([]);
      expect(t.get('scalar')?.numel).toBe(1);
      // readElements of a view: elements 3..5 of transposed (row-major) are 1, 5, 9.
      const part = await t.get('transposed')!.readElements(3, 3);
      expect(Array.from(new Float32Array(part.buffer, part.byteOffset, 3))).toEqual([1, 5, 9]);
    } finally {
      await pt.close();
    }
  });
});

describe('reading into a caller buffer', () => {
  it('readBytes/readElements fill `into` (zip and legacy, contiguous and views) and refuse a short one', async () => {
    for (const rel of ['torch-2.11/views.pt', 'torch-1.13/state_dict_f32_legacy.pt']) {
      const pt = await readPt(join(ROOT, rel));
      try {
        const scratch = new Uint8Array(4096).fill(0xee);
        for (const [name, t] of pt.tensors()) {
          const fresh = await t.readBytes();
          const got = await t.readBytes(scratch);
          expect(got.buffer, name).toBe(scratch.buffer);
          expect(Buffer.from(got).equals(Buffer.from(fresh)), name).toBe(true);
          if (t.numel >= 3) {
            const part = await t.readElements(1, 2, scratch.subarray(100));
            expect(Buffer.from(part).equals(Buffer.from(fresh.subarray(t.itemsize, 3 * t.itemsize))), name).toBe(true);
            await expect(t.readElements(0, 3, new Uint8Array(2 * t.itemsize))).rejects.toThrow(/smaller/);
          }
        }
      } finally {
        await pt.close();
      }
    }
  });
});

describe('the JSON comparison is strict (so the test above can fail)', () => {
  it('reports a changed value, dict order, the ordered flag, tuple vs list and -0 vs 0', async () => {
    const expected = parsePythonJson(readFileSync(join(ROOT, 'torch-2.11', 'trainer_state.json'), 'utf8')) as {
      value: { __dict__: Array<[string, unknown]>; ordered: boolean };
    };
    const pt = await readPt(join(ROOT, 'torch-2.11', 'trainer_state.pt'));
    try {
      const clone = (): typeof expected.value => JSON.parse(JSON.stringify(expected.value)) as typeof expected.value;
      const changed = clone();
      (changed.__dict__.find(([k]) => k === 'global_step') as [string, unknown])[1] = 251;
      expect((await diffAgainstJson(pt.root, changed)).join()).toMatch(/global_step.*251/);
      const flipped = clone();
      flipped.ordered = !flipped.ordered;
      expect(await diffAgainstJson(pt.root, flipped)).not.toEqual([]);
      const reordered = clone();
      reordered.__dict__.reverse();
      expect(await diffAgainstJson(pt.root, reordered)).not.toEqual([]);
      const asList = JSON.parse(
        JSON.stringify(expected.value)
          .replace('{"__tuple__": [0.9, 0.999]}', '[0.9, 0.999]')
          .replace('{"__tuple__":[0.9,0.999]}', '[0.9,0.999]'),
      ) as unknown;
      expect(await diffAgainstJson(pt.root, asList)).not.toEqual([]);
      expect(await diffAgainstJson(0, -0)).not.toEqual([]);
      expect(await diffAgainstJson(-0, -0)).toEqual([]);
      expect(await diffAgainstJson(NaN, NaN)).toEqual([]);
      expect(await diffAgainstJson(Infinity, -Infinity)).not.toEqual([]);
    } finally {
      await pt.close();
    }
  });

  it('parses Python json NaN / Infinity tokens but not inside strings', () => {
    expect(parsePythonJson('[NaN, -Infinity, Infinity, "NaN", -0.0]')).toEqual([NaN, -Infinity, Infinity, 'NaN', -0]);
    expect(Object.is((parsePythonJson('[-0.0]') as number[])[0], -0)).toBe(true);
  });
});
