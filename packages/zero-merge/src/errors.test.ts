// Damaged copies of the fixtures (in a temp dir; the fixtures are never touched): every failure is a
// typed error naming its cause, and no output is left behind.
import { cp, readdir, rename, rm, stat, truncate, writeFile, copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consolidate } from './consolidate.js';
import { extractAdapter } from './adapter.js';
import {
  CheckpointNotFoundError,
  CorruptCheckpointError,
  OutputExistsError,
  RankFilesError,
  WorldSizeMismatchError,
  ZeroMergeUsageError,
} from './errors.js';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';

const FIX = fileURLToPath(new URL('../../../fixtures/zero/', import.meta.url));
let tmp: string;
let n = 0;

beforeAll(async () => {
  tmp = await testTmpDir('zero-merge-err-');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function copyOf(fixture: string): Promise<{ ckpt: string; step: string }> {
  const ckpt = join(tmp, `case-${n++}`);
  await cp(join(FIX, fixture, 'checkpoint-5000'), ckpt, { recursive: true });
  return { ckpt, step: join(ckpt, 'global_step5000') };
}

/** Nothing at `out`, and no temp siblings beside it. */
async function expectNoOutput(out: string): Promise<void> {
  expect(await stat(out).catch(() => null)).toBeNull();
  const base = out.split('/').pop()!;
  const dir = out.slice(0, -base.length - 1);
  expect((await readdir(dir)).filter((f) => f.includes(base))).toEqual([]);
}

describe('typed errors, no partial output', () => {
  it('a missing rank file: WorldSizeMismatchError naming it', async () => {
    const { ckpt, step } = await copyOf('zero3-w4-bf16');
    await rm(join(step, 'bf16_zero_pp_rank_2_mp_rank_00_optim_states.pt'));
    const out = join(tmp, 'out-missing.safetensors');
    const err = await consolidate(ckpt, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldSizeMismatchError);
    expect((err as WorldSizeMismatchError).missing).toEqual(['bf16_zero_pp_rank_2_mp_rank_00_optim_states.pt']);
    expect((err as Error).message).toMatch(/expected 4 .*found 3.*bf16_zero_pp_rank_2_mp_rank_00_optim_states\.pt/);
    await expectNoOutput(out);
  });

  it('a missing ZeRO-3 model states file: RankFilesError naming it', async () => {
    const { ckpt, step } = await copyOf('zero3-w4-bf16');
    await rm(join(step, 'zero_pp_rank_1_mp_rank_00_model_states.pt'));
    const out = join(tmp, 'out-model-missing');
    const err = await consolidate(ckpt, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RankFilesError);
    expect((err as RankFilesError).missing).toEqual(['zero_pp_rank_1_mp_rank_00_model_states.pt']);
    await expectNoOutput(out);
  });

  it('a missing ZeRO-2 mp_rank_00_model_states.pt: RankFilesError', async () => {
    const { ckpt, step } = await copyOf('zero2-w3-fp16');
    await rm(join(step, 'mp_rank_00_model_states.pt'));
    await expect(consolidate(ckpt, join(tmp, 'x.safetensors'))).rejects.toThrow(/mp_rank_00_model_states\.pt/);
  });

  it('an extra rank file (world size mismatch): WorldSizeMismatchError naming the extra file', async () => {
    const { ckpt, step } = await copyOf('zero2-w3-fp16');
    await copyFile(
      join(step, 'zero_pp_rank_2_mp_rank_00_optim_states.pt'),
      join(step, 'zero_pp_rank_3_mp_rank_00_optim_states.pt'),
    );
    const out = join(tmp, 'out-extra.safetensors');
    const err = await consolidate(ckpt, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldSizeMismatchError);
    expect((err as WorldSizeMismatchError).expected).toBe(3);
    expect((err as WorldSizeMismatchError).found).toBe(4);
    expect((err as WorldSizeMismatchError).extra).toEqual(['zero_pp_rank_3_mp_rank_00_optim_states.pt']);
    await expectNoOutput(out);
  });

  it('rank files of a different world size (renamed set): WorldSizeMismatchError', async () => {
    const { ckpt, step } = await copyOf('zero3-w4-bf16');
    // ranks 0..3 saved with partition_count 4, but rank 3's files are gone and a stray rank 5 appeared
    await rename(
      join(step, 'bf16_zero_pp_rank_3_mp_rank_00_optim_states.pt'),
      join(step, 'bf16_zero_pp_rank_5_mp_rank_00_optim_states.pt'),
    );
    const err = await consolidate(ckpt, join(tmp, 'ws.safetensors')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorldSizeMismatchError);
    expect((err as WorldSizeMismatchError).missing).toEqual(['bf16_zero_pp_rank_3_mp_rank_00_optim_states.pt']);
    expect((err as WorldSizeMismatchError).extra).toEqual(['bf16_zero_pp_rank_5_mp_rank_00_optim_states.pt']);
  });

  it('a truncated shard: CorruptCheckpointError naming the file', async () => {
    const { ckpt, step } = await copyOf('zero3-w4-bf16');
    const f = join(step, 'bf16_zero_pp_rank_1_mp_rank_00_optim_states.pt');
    await truncate(f, Math.floor((await stat(f)).size / 2));
    const out = join(tmp, 'out-trunc');
    const err = await consolidate(ckpt, out).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CorruptCheckpointError);
    expect((err as CorruptCheckpointError).file).toBe(f);
    expect((err as Error).message).toMatch(/bf16_zero_pp_rank_1_mp_rank_00_optim_states\.pt/);
    await expectNoOutput(out);
  });

  it('a truncated model states file stops extract-adapter too', async () => {
    const { ckpt, step } = await copyOf('zero3-w4-bf16');
    const f = join(step, 'zero_pp_rank_0_mp_rank_00_model_states.pt');
    await truncate(f, 1000);
    const out = join(tmp, 'adapter-trunc');
    await expect(extractAdapter(ckpt, out)).rejects.toBeInstanceOf(CorruptCheckpointError);
    await expectNoOutput(out);
  });

  it('mixed precision leftovers (bf16_ and unprefixed optimizer files): RankFilesError', async () => {
    const { ckpt, step } = await copyOf('zero3-w4-bf16');
    await copyFile(
      join(step, 'bf16_zero_pp_rank_0_mp_rank_00_optim_states.pt'),
      join(step, 'zero_pp_rank_0_mp_rank_00_optim_states.pt'),
    );
    await expect(consolidate(ckpt, join(tmp, 'mixed.safetensors'))).rejects.toThrow(/mixes optimizer files/);
  });

  it('no latest and no tag dir: CheckpointNotFoundError suggesting --tag', async () => {
    const { ckpt } = await copyOf('zero2-w3-fp16');
    await rm(join(ckpt, 'latest'));
    const err = await consolidate(ckpt, join(tmp, 'nl.safetensors')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointNotFoundError);
    expect((err as Error).message).toMatch(/--tag global_step5000/);
    // --tag works
    const r = await consolidate(ckpt, join(tmp, 'tagged.safetensors'), { tag: 'global_step5000' });
    expect(r.tensors).toBe(54);
    await expect(consolidate(ckpt, join(tmp, 'bad-tag.safetensors'), { tag: 'global_step1' })).rejects.toBeInstanceOf(
      CheckpointNotFoundError,
    );
  });

  it('a latest file naming a missing tag: CheckpointNotFoundError', async () => {
    const { ckpt } = await copyOf('zero2-w3-fp16');
    await writeFile(join(ckpt, 'latest'), 'global_step9999');
    await expect(consolidate(ckpt, join(tmp, 'lt.safetensors'))).rejects.toThrow(/global_step9999/);
  });

  it('an existing output is kept unless overwrite is asked for; a bad filter is a usage error', async () => {
    const out = join(tmp, 'exists.safetensors');
    await writeFile(out, 'keep me');
    await expect(consolidate(join(FIX, 'zero2-w3-fp16', 'checkpoint-5000'), out)).rejects.toBeInstanceOf(
      OutputExistsError,
    );
    await expect(
      consolidate(join(FIX, 'zero2-w3-fp16', 'checkpoint-5000'), join(tmp, 'f.safetensors'), {
        include: ['nothing.matches'],
      }),
    ).rejects.toBeInstanceOf(ZeroMergeUsageError);
    await expectNoOutput(join(tmp, 'f.safetensors'));
    await expect(
      consolidate(join(FIX, 'zero2-w3-fp16', 'checkpoint-5000'), join(tmp, 'g.safetensors'), { maxShardSize: 1000 }),
    ).rejects.toBeInstanceOf(ZeroMergeUsageError);
  });
});
