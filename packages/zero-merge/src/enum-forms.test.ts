// DeepSpeed checkpoints pickled by every CPython 3.8–3.13: ZeroStageEnum written by value (`ZeroStageEnum(3)`)
// or, by CPython 3.11.x, as `getattr(ZeroStageEnum, 'weights')`. fixtures/zero-enum/make.py (Debian's
// /usr/bin/python3 3.11.2 + torch 1.13) re-saved zero3-w4-bf16's optimizer states in the getattr form;
// consolidating them must give DeepSpeed zero_to_fp32's expected.safetensors byte for byte.
import { cpSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';
import { openZeroCheckpoint } from './checkpoint.js';
import { consolidate } from './consolidate.js';

const FIX = fileURLToPath(new URL('../../../fixtures/', import.meta.url));
const ORIGINAL = join(FIX, 'zero/zero3-w4-bf16');
const GETATTR = join(FIX, 'zero-enum/zero3-w4-bf16-getattr/global_step5000');

let tmp: string;
beforeAll(async () => {
  tmp = await testTmpDir('zero-merge-enum-');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

/** zero3-w4-bf16/checkpoint-5000 with its four optimizer states replaced by the CPython 3.11 getattr-form ones. */
function getattrCheckpoint(): string {
  const ckpt = join(tmp, 'checkpoint-5000');
  cpSync(join(ORIGINAL, 'checkpoint-5000'), ckpt, { recursive: true });
  const optim = readdirSync(GETATTR).filter((n) => n.endsWith('_optim_states.pt'));
  expect(optim).toHaveLength(4);
  for (const n of optim) cpSync(join(GETATTR, n), join(ckpt, 'global_step5000', n));
  return ckpt;
}

describe('ZeroStageEnum pickled as getattr(ZeroStageEnum, "weights") (CPython 3.11)', () => {
  it('the fixture really holds the getattr form', () => {
    const bytes = readFileSync(join(GETATTR, 'bf16_zero_pp_rank_0_mp_rank_00_optim_states.pt'));
    expect(bytes.includes(Buffer.from('c__builtin__\ngetattr\n', 'latin1'))).toBe(true);
  });

  it('opens as stage 3 and consolidates to expected.safetensors byte for byte', async () => {
    const ckpt = getattrCheckpoint();
    const z = await openZeroCheckpoint(ckpt);
    expect(z.stage).toBe(3);
    await z.close();
    const out = join(tmp, 'getattr.safetensors');
    const r = await consolidate(ckpt, out);
    expect(r.stage).toBe(3);
    expect(r.worldSize).toBe(4);
    expect(r.tensors).toBe(54);
    expect(readFileSync(out).equals(readFileSync(join(ORIGINAL, 'expected.safetensors')))).toBe(true);
  });
});
