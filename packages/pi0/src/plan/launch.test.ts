import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AtomicWriteError } from '@vla-lora/checkpoint-io';
import { launchSpec } from '@vla-lora/gemma-config';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeLaunchSpec } from './launch.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'pi0-launch-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('writeLaunchSpec', () => {
  it('writes every file of the spec (launch.sh executable); replaces only when asked', async () => {
    const dir = join(root, 'launch');
    const ds = launchSpec('qwen2_5_vl_3b_lora', { engine: 'deepspeed', zeroStage: 3, nprocPerNode: 2 });
    await writeLaunchSpec(ds, dir, { replace: false });
    expect((await readdir(dir)).sort()).toEqual(Object.keys(ds.files).sort());
    for (const [name, text] of Object.entries(ds.files)) expect(await readFile(join(dir, name), 'utf8')).toBe(text);
    expect((await stat(join(dir, 'launch.sh'))).mode & 0o777).toBe(0o755);
    expect((await stat(join(dir, 'ds_config.json'))).mode & 0o777).toBe(0o644);

    const tr = launchSpec('qwen2_5_vl_3b_lora', { engine: 'torchrun' });
    await expect(writeLaunchSpec(tr, dir, { replace: false })).rejects.toThrow(AtomicWriteError);
    expect(await readFile(join(dir, 'ds_config.json'), 'utf8')).toBe(ds.files['ds_config.json']);
    await writeLaunchSpec(tr, dir, { replace: true });
    expect((await readdir(dir)).sort()).toEqual(Object.keys(tr.files).sort());
    expect((await readdir(root)).sort()).toEqual(['launch']); // no temp siblings left
  });
});
