// ZeroStageEnum as every CPython 3.8–3.13 pickles it, in files made by fixtures/zero-enum/make.py (CPython 3.11.2's
// pickle via torch.save 1.13, protocols 2, 4, 5): `ZeroStageEnum(3)` (by value) and `getattr(ZeroStageEnum,
// 'weights')` (3.11's Enum.__reduce_ex__) read to the same inert record, with nothing refused or executed.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PickleDict, PickleObject, type PickleValue } from '../pickle/values.js';
import { readPt } from '../read.js';

const FORMS = fileURLToPath(new URL('../../../../../fixtures/zero-enum/forms/', import.meta.url));
const MODULE = 'deepspeed.runtime.zero.config';

function member(v: PickleValue | undefined): number {
  expect(v).toBeInstanceOf(PickleObject);
  const o = v as PickleObject;
  expect({ module: o.module, name: o.name, via: o.via }).toEqual({
    module: MODULE,
    name: 'ZeroStageEnum',
    via: 'reduce',
  });
  expect(o.args).toHaveLength(1);
  return o.args[0] as number;
}

describe.each([2, 4, 5])('ZeroStageEnum pickled with protocol %i', (proto) => {
  it.each(['value', 'getattr'])('%s form → ZeroStageEnum records with the member values', async (form) => {
    const pt = await readPt(`${FORMS}${form}-p${proto}.pt`);
    try {
      expect(pt.unsafeGlobals).toEqual([]);
      const names = pt.globals.map((g) => `${g.module}.${g.name}`);
      expect(names.some((n) => n.endsWith('.getattr'))).toBe(form === 'getattr');
      const root = pt.root as PickleDict;
      expect(root).toBeInstanceOf(PickleDict);
      expect(member(root.get('zero_stage'))).toBe(3);
      expect(member(root.get('max_stage'))).toBe(3);
      expect((root.get('members') as PickleValue[]).map(member)).toEqual([0, 1, 2]);
      expect(root.get('partition_count')).toBe(4);
      expect(pt.tensors().map(([n, t]) => [n, t.dtype, t.shape])).toEqual([['fp32_flat_groups.0', 'float32', [4]]]);
    } finally {
      await pt.close();
    }
  });
});
