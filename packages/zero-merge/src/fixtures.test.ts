// Acceptance on the ground-truth fixtures: DeepSpeed's own zero_to_fp32 output (expected*.safetensors)
// must come out bit for bit.
import { readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bf16ToF32, f16ToF32, type RawTensor } from '@vla-lora/checkpoint-io';
import { allTensors } from '@vla-lora/checkpoint-io/test-support';
import { consolidate } from './consolidate.js';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';

const FIX = fileURLToPath(new URL('../../../fixtures/zero/', import.meta.url));
const CASES = [
  { name: 'zero3-w4-bf16', stage: 3, worldSize: 4, half: 'BF16' },
  { name: 'zero2-w3-fp16', stage: 2, worldSize: 3, half: 'F16' },
] as const;

let tmp: string;
beforeAll(async () => {
  tmp = await testTmpDir('zero-merge-fix-');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

function expectSameTensors(got: Map<string, RawTensor>, want: Map<string, RawTensor>): void {
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, w] of want) {
    const g = got.get(k)!;
    expect({ k, dtype: g.dtype, shape: g.shape }).toEqual({ k, dtype: w.dtype, shape: w.shape });
    expect(Buffer.from(g.bytes).equals(Buffer.from(w.bytes)), k).toBe(true);
  }
}

describe.each(CASES)('$name', (c) => {
  const ckpt = join(FIX, c.name, 'checkpoint-5000');

  it('consolidates bit for bit to expected.safetensors (whole file and tensor by tensor)', async () => {
    const out = join(tmp, `${c.name}.safetensors`);
    const r = await consolidate(ckpt, out);
    expect(r.stage).toBe(c.stage);
    expect(r.worldSize).toBe(c.worldSize);
    expect(r.tensors).toBe(54);
    expect(r.counts.shared.count).toBe(1);
    expectSameTensors(await allTensors(out), await allTensors(join(FIX, c.name, 'expected.safetensors')));
    expect((await readFile(out)).equals(await readFile(join(FIX, c.name, 'expected.safetensors')))).toBe(true);
  });

  it('streams through tiny chunks and read-ahead windows with the same bytes', async () => {
    const out = join(tmp, `${c.name}-tiny.safetensors`);
    await consolidate(ckpt, out, { chunkBytes: 40, windowBytes: 256 });
    expect((await readFile(out)).equals(await readFile(join(FIX, c.name, 'expected.safetensors')))).toBe(true);
  });

  it('with excludeFrozen equals expected-nofrozen.safetensors', async () => {
    const out = join(tmp, `${c.name}-nofrozen.safetensors`);
    const r = await consolidate(ckpt, out, { excludeFrozen: true });
    expect(r.tensors).toBe(33);
    expect(r.counts.frozen.count).toBe(0);
    // the tied lm_head follows its frozen source out, as in zero_to_fp32
    expect(r.counts.shared.count).toBe(0);
    expect((await readFile(out)).equals(await readFile(join(FIX, c.name, 'expected-nofrozen.safetensors')))).toBe(true);
  });

  it('writes a directory: model.safetensors identical to the expected file', async () => {
    const out = join(tmp, `${c.name}-dir`);
    const r = await consolidate(join(ckpt, 'global_step5000'), out);
    expect(r.files).toEqual([join(out, 'model.safetensors')]);
    expect(
      (await readFile(join(out, 'model.safetensors'))).equals(
        await readFile(join(FIX, c.name, 'expected.safetensors')),
      ),
    ).toBe(true);
  });

  it('shards past maxShardSize with an index that a sharded reader follows; tied weights are separate copies', async () => {
    const out = join(tmp, `${c.name}-sharded`);
    const r = await consolidate(ckpt, out, { maxShardSize: 20_000 });
    const names = (await readdir(out)).sort();
    expect(names).toContain('model.safetensors.index.json');
    expect(names.filter((n) => /^model-\d{5}-of-\d{5}\.safetensors$/.test(n)).length).toBe(r.files.length - 1);
    expect(r.files.length).toBeGreaterThan(3);
    const index = JSON.parse(await readFile(join(out, 'model.safetensors.index.json'), 'utf8')) as {
      metadata: { total_size: number };
      weight_map: Record<string, string>;
    };
    expect(Object.keys(index.weight_map).length).toBe(54);
    expect(index.metadata.total_size).toBe(r.bytes);
    const got = await allTensors(out);
    expectSameTensors(got, await allTensors(join(FIX, c.name, 'expected.safetensors')));
    expect(got.get('base_model.model.lm_head.weight')!.bytes).not.toBe(
      got.get('base_model.model.model.embed_tokens.weight')!.bytes,
    );
  });

  it('--dtype fp32 widens the frozen 16-bit weights exactly; bf16 narrows the fp32 ones', async () => {
    const want = await allTensors(join(FIX, c.name, 'expected.safetensors'));
    const out = join(tmp, `${c.name}-f32.safetensors`);
    // 6-byte chunks: the conversion runs chunk by chunk (1 fp32 / 3 half elements at a time)
    await consolidate(ckpt, out, { dtype: 'fp32', chunkBytes: 6 });
    const got = await allTensors(out);
    const embed = 'base_model.model.model.embed_tokens.weight';
    expect(got.get(embed)!.dtype).toBe('F32');
    const w = want.get(embed)!;
    expect(w.dtype).toBe(c.half);
    const u16 = new Uint16Array(w.bytes.slice().buffer);
    expect(new Float32Array(got.get(embed)!.bytes.slice().buffer)).toEqual(
      c.half === 'BF16' ? bf16ToF32(u16) : f16ToF32(u16),
    );
    for (const t of got.values()) expect(t.dtype).toBe('F32');

    const out16 = join(tmp, `${c.name}-bf16.safetensors`);
    await consolidate(ckpt, out16, { dtype: 'bf16' });
    const got16 = await allTensors(out16);
    for (const t of got16.values()) expect(t.dtype).toBe('BF16');
  });

  it('a name filter keeps only what matches', async () => {
    const out = join(tmp, `${c.name}-lora.safetensors`);
    const r = await consolidate(ckpt, out, { include: ['**.lora_*.**'], exclude: ['**.layers.1.**'] });
    expect(r.tensors).toBe(14);
    const got = await allTensors(out);
    for (const k of got.keys()) expect(k).toMatch(/\.layers\.0\..*lora_[AB]\.default\.weight$/);
  });
});
