// Synthetic checkpoints (scripts/synthetic.ts, written with checkpoint-io's writePt) exercise what the
// fixtures do not: params straddling ZeRO-3 flat groups, ZeRO-1, other world sizes, unsupported
// stages, param_shapes that do not match the partitions.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSafetensors } from '@vla-lora/checkpoint-io';
import {
  loraModelParams,
  loraSynthOptions,
  synthExpected,
  TEST_LORA_MODEL,
  writeSyntheticCheckpoint,
  type SynthOptions,
} from '../scripts/synthetic.js';
import { consolidate } from './consolidate.js';
import { extractAdapter } from './adapter.js';
import { inspectCheckpoint } from './inspect.js';
import { NumelMismatchError, UnsupportedStageError } from './errors.js';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';
import { openZeroCheckpoint } from './checkpoint.js';
import { reconstruct } from './reconstruct.js';

let tmp: string;
let n = 0;
beforeAll(async () => {
  tmp = await testTmpDir('zero-merge-synth-');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const params = loraModelParams(TEST_LORA_MODEL);
const base = (o: Partial<SynthOptions>): SynthOptions => loraSynthOptions(TEST_LORA_MODEL, o);

async function roundTrip(opts: SynthOptions, consolidateOpts: Parameters<typeof consolidate>[2] = {}): Promise<void> {
  const dir = join(tmp, `ck-${n++}`);
  await writeSyntheticCheckpoint(dir, opts);
  const out = join(tmp, `out-${n++}.safetensors`);
  const r = await consolidate(dir, out, consolidateOpts);
  expect(r.stage).toBe(opts.stage);
  expect(r.worldSize).toBe(opts.worldSize);
  const f = await openSafetensors(out);
  try {
    const names = f
      .list()
      .map((t) => t.name)
      .sort();
    const want = [...params.map((p) => p.name), 'action_head.running_mean', 'base_model.model.lm_head.weight'].sort();
    expect(names).toEqual(want);
    for (const name of names) {
      const got = await f.read(name);
      const exp = synthExpected(opts, name);
      expect({ name, dtype: got.dtype, shape: got.shape }).toEqual({ name, dtype: exp.dtype, shape: exp.shape });
      expect(Buffer.from(got.bytes).equals(Buffer.from(exp.bytes)), name).toBe(true);
    }
  } finally {
    await f.close();
  }
}

describe('synthetic checkpoints', () => {
  it('ZeRO-3, 3 ranks, params straddling 37-element flat groups, tiny read windows', async () => {
    await roundTrip(base({ subGroupElems: 37 }), { windowBytes: 160, chunkBytes: 12 });
  });

  it('ZeRO-3, 5 ranks, fp16, two param groups', async () => {
    await roundTrip(base({ worldSize: 5, dtype: 'fp16' }));
  });

  it('ZeRO-2, 4 ranks, bf16 (bf16_ prefix), partition_count per group', async () => {
    await roundTrip(base({ stage: 2, worldSize: 4 }));
  });

  it('ZeRO-1, 2 ranks, fp16', async () => {
    await roundTrip(base({ stage: 1, worldSize: 2, dtype: 'fp16' }), { chunkBytes: 8 });
  });

  it('chunks(): read ahead into two buffers, equal to read(); a consumer may stop early or read tensors at once', async () => {
    const dir = join(tmp, `ck-${n++}`);
    const opts = base({ subGroupElems: 41 });
    await writeSyntheticCheckpoint(dir, opts);
    const ck = await openZeroCheckpoint(dir);
    try {
      const { tensors } = reconstruct(ck, { windowBytes: 48 });
      const whole = async (t: (typeof tensors)[number], chunk: number): Promise<Buffer> => {
        const parts: Buffer[] = [];
        for await (const c of t.chunks(chunk)) parts.push(Buffer.from(c)); // copied: the buffers are reused
        return Buffer.concat(parts);
      };
      // every tensor at once (the views are shared across tensors), in 20-byte chunks
      const all = await Promise.all(tensors.map((t) => whole(t, 20)));
      tensors.forEach((t, i) =>
        expect(all[i]!.equals(Buffer.from(synthExpected(opts, t.name).bytes)), t.name).toBe(true),
      );
      const big = tensors.find((t) => t.name === 'base_model.model.model.embed_tokens.weight')!;
      for await (const c of big.chunks(16)) {
        expect(c.byteLength).toBe(16);
        break; // the read of the next chunk is in flight: it must settle quietly
      }
      expect((await big.read()).byteLength).toBe(big.numel * 2);
    } finally {
      await ck.close();
    }
  });

  it('extract-adapter and inspect on a synthetic ZeRO-3 run', async () => {
    const dir = join(tmp, `ck-${n++}`);
    const opts = base({ subGroupElems: 50 });
    await writeSyntheticCheckpoint(dir, opts);
    const i = await inspectCheckpoint(dir);
    expect(i.lora.tensors).toBe(28);
    expect(i.adapterFile?.placeholder).toBe(true);
    const a = await extractAdapter(dir, join(tmp, `adapter-${n++}`), { modulesToSave: ['action_head'] });
    expect(a.report.loraTensors).toBe(28);
    expect(a.extraTensors).toBe(5);
  });

  it('stage 0 and stage 4 are UnsupportedStageError', async () => {
    for (const zs of [0, 4]) {
      const dir = join(tmp, `ck-${n++}`);
      await writeSyntheticCheckpoint(dir, base({ zeroStageValue: zs }));
      const err = await consolidate(dir, join(tmp, `never-${n++}.safetensors`)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedStageError);
      expect((err as UnsupportedStageError).stage).toBe(zs);
      expect((err as Error).message).toMatch(new RegExp(`stage ${zs}`));
    }
  });

  it('param_shapes that disagree with the partitions: NumelMismatchError (ZeRO-3 and ZeRO-2)', async () => {
    const lie = { 'action_head.layers.0.weight': [7, 9] };
    for (const stage of [3, 2] as const) {
      const dir = join(tmp, `ck-${n++}`);
      await writeSyntheticCheckpoint(dir, base({ stage, paramShapesOverride: lie }));
      await expect(consolidate(dir, join(tmp, `never-${n++}.safetensors`))).rejects.toBeInstanceOf(NumelMismatchError);
    }
  });
});
