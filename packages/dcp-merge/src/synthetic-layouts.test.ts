// End-to-end check of the row-major assembly when chunks interleave (tensor-parallel style: 2-D tensors split on
// dim 1 over 3 ranks). The checkpoint is SYNTHETIC (bench/synthetic.ts, our own writer): it exercises our layout
// code, not the format — the format's ground truth is the PyTorch-written fixture in fixtures.test.ts.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '@vla-lora/checkpoint-io';
import { fillRow, rowBytes, writeSyntheticDcp, type SyntheticTensor } from '../bench/synthetic.js';
import { consolidate } from './consolidate.js';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';

let tmp: string;
beforeAll(async () => {
  tmp = await testTmpDir('dcp-merge-syn-');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('synthetic checkpoints (layout only)', () => {
  const tensors: SyntheticTensor[] = [
    { name: 'a.weight', dtype: 'bfloat16', shape: [7, 10] },
    { name: 'b.weight', dtype: 'float32', shape: [5, 3] },
    { name: 'c.bias', dtype: 'float32', shape: [11] },
  ];
  for (const splitDim of [0, 1] as const)
    it(`chunks split on dim ${splitDim} over 3 ranks come out row-major, byte for byte`, async () => {
      const dir = join(tmp, `ck${splitDim}`);
      await writeSyntheticDcp(dir, tensors, 3, splitDim);
      const out = join(tmp, `out${splitDim}.safetensors`);
      const r = await consolidate(dir, out);
      expect(r.tensors).toBe(3);
      const f = await openSafetensors(out);
      try {
        for (const [ti, t] of tensors.entries()) {
          const got = await f.read(t.name);
          const rb = rowBytes(t);
          const want = new Uint8Array((t.shape[0] as number) * rb);
          for (let i = 0; i < (t.shape[0] as number); i++) fillRow(want.subarray(i * rb, (i + 1) * rb), ti, i);
          expect(got.shape).toEqual(t.shape);
          expect(Buffer.from(got.bytes).equals(Buffer.from(want)), t.name).toBe(true);
        }
      } finally {
        await f.close();
      }
    });
});
