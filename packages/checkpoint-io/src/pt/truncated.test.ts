// Truncated and closed files through readPt: every cut is a typed error; opening reads only the pickle.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PtError, PtTruncatedError } from './errors.js';
import { readPt } from './read.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIX = fileURLToPath(new URL('../../../../fixtures/', import.meta.url));

/** Reads the file and every tensor in it. */
async function readAll(path: string): Promise<void> {
  const pt = await readPt(path);
  try {
    for (const [, t] of pt.tensors()) await t.readBytes();
  } finally {
    await pt.close();
  }
}

describe('truncated files', () => {
  const files = [
    'torch-pt/torch-2.11/views.pt',
    'torch-pt/torch-1.13/state_dict_f32_legacy.pt',
    'torch-pt/torch-2.11/trainer_state.pt',
    'zero/zero2-w3-fp16/checkpoint-5000/global_step5000/zero_pp_rank_0_mp_rank_00_optim_states.pt',
  ];
  it.each(files)('%s cut anywhere → a typed error', async (rel) => {
    const full = readFileSync(join(FIX, rel));
    const cuts = new Set<number>();
    for (let i = 0; i < 24; i++) cuts.add(Math.floor((full.length * i) / 24));
    for (let i = 1; i <= 12; i++) cuts.add(full.length - i);
    for (let i = 0; i < 8; i++) cuts.add(i);
    const p = join(dir, `cut-${rel.replace(/\W/g, '_')}`);
    for (const cut of cuts) {
      writeFileSync(p, full.subarray(0, cut));
      const err = await readAll(p).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `cut at ${cut}`).toBeInstanceOf(PtError);
    }
  });

  it('a legacy file cut inside its storages says truncated', async () => {
    const full = readFileSync(join(FIX, 'torch-pt/torch-2.11/state_dict_f32_legacy.pt'));
    const p = join(dir, 'legacy-cut.pt');
    writeFileSync(p, full.subarray(0, full.length - 5));
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTruncatedError);
  });

  it('closing the file makes later reads fail with a typed error', async () => {
    for (const rel of ['torch-pt/torch-2.11/views.pt', 'torch-pt/torch-2.11/state_dict_f32_legacy.pt']) {
      const pt = await readPt(join(FIX, rel));
      const t = pt.tensors()[0]![1];
      await pt.close();
      await pt.close(); // idempotent
      await expect(t.readBytes()).rejects.toBeInstanceOf(PtError);
    }
  });

  it('opening a file reads only its pickle, not its storages', async () => {
    const path = join(FIX, 'zero/zero2-w3-fp16/checkpoint-5000/global_step5000/mp_rank_00_model_states.pt');
    const fh = await open(path, 'r');
    const size = (await fh.stat()).size;
    await fh.close();
    const pt = await readPt(path);
    try {
      const storageBytes = [...pt.storages.values()].reduce((a, s) => a + s.nbytes, 0);
      expect(storageBytes).toBeGreaterThan(size / 2);
      expect([...pt.storages.values()].every((s) => s.isBound)).toBe(true);
    } finally {
      await pt.close();
    }
  });
});
