// Checkpoint bytes must depend on the state only, and a save that fails (disk full) must say which
// file, which step, and which checkpoint is still good.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CheckpointWriteError,
  loadCheckpoint,
  saveCheckpoint,
  type CheckpointContents,
  type F32Tensor,
  type OptimizerCheckpoint,
} from './index.js';

const f32 = (n: number, seed: number): F32Tensor => {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(seed * 13 + i);
  return { shape: [n], data };
};

function optimizer(names: string[], n: number, hyper: OptimizerCheckpoint['hyper']): OptimizerCheckpoint {
  return {
    expAvg: new Map(names.map((name) => [name, f32(n, name.charCodeAt(0))])),
    expAvgSq: new Map(names.map((name) => [name, f32(n, name.charCodeAt(0) + 100)])),
    steps: new Map(names.map((name) => [name, 7])),
    hyper,
  };
}

function contents(step: number, opt: OptimizerCheckpoint): CheckpointContents {
  return {
    state: {
      globalStep: step,
      epoch: 0,
      dataCursor: null,
      rng: null,
      scheduler: { name: 'constant' },
      metricsHistory: [],
      config: { x: 1 },
    },
    optimizer: opt,
  };
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ckpt-save-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('optimizer.safetensors bytes', () => {
  it('do not depend on parameter insertion order or hyper key order (a resumed run writes the same bytes)', async () => {
    const hyperA = { lr: 0.001, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.01 };
    const hyperB = { weight_decay: 0.01, eps: 1e-8, betas: [0.9, 0.95], lr: 0.001 };
    // model order (a fresh run) vs the sorted order loadCheckpoint hands back (a resumed run)
    const a = await saveCheckpoint(join(root, 'a'), contents(7, optimizer(['z.w', 'a.w', 'm.w'], 8, hyperA)), {
      now: () => new Date(0),
    });
    const b = await saveCheckpoint(join(root, 'b'), contents(7, optimizer(['a.w', 'm.w', 'z.w'], 8, hyperB)), {
      now: () => new Date(0),
    });
    const bytesA = await readFile(join(a.dir, 'optimizer.safetensors'));
    const bytesB = await readFile(join(b.dir, 'optimizer.safetensors'));
    expect(bytesA.equals(bytesB)).toBe(true);
  });
});

// A real ENOSPC needs a small filesystem: a tmpfs, which only root may mount. Skipped (visibly) otherwise.
const mountPoint = join(tmpdir(), `ckpt-enospc-${process.pid}`);
const canMount = (() => {
  spawnSync('mkdir', ['-p', mountPoint]);
  return spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tmpfs', mountPoint], { stdio: 'ignore' }).status === 0;
})();
afterAll(() => {
  if (canMount) spawnSync('umount', [mountPoint]);
  spawnSync('rmdir', [mountPoint]);
});

describe.skipIf(!canMount)('disk full during a save (512 KiB tmpfs; needs root to mount)', () => {
  it('names the file, the step and the last good checkpoint; latest is untouched; the save works once space is freed', async () => {
    const ckpts = join(mountPoint, 'run', 'checkpoints');
    const names = ['layer.a', 'layer.b'];
    const first = await saveCheckpoint(ckpts, contents(100, optimizer(names, 8192, { lr: 1 })));
    // Fill the filesystem but for ~40 KiB: the next 128 KiB optimizer file cannot fit.
    const filler = join(mountPoint, 'filler');
    const df = spawnSync('df', ['--output=avail', '-B1', mountPoint], { encoding: 'utf8' });
    const avail = Number(df.stdout.trim().split('\n').at(-1));
    expect(avail).toBeGreaterThan(40_000);
    await writeFile(filler, Buffer.alloc(avail - 40_000));

    const err = await saveCheckpoint(ckpts, contents(200, optimizer(names, 8192, { lr: 1 }))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointWriteError);
    const e = err as CheckpointWriteError;
    expect(e.code).toBe('ENOSPC');
    expect(e.step).toBe(200);
    expect(e.file).toBe('optimizer.safetensors');
    expect(e.lastGood).toBe(first.dir);
    expect(e.message).toContain('step-000200/optimizer.safetensors');
    expect(e.message).toContain(`The last good checkpoint is ${first.dir}`);
    expect(e.message).toMatch(/disk full/);
    expect((await readFile(join(ckpts, 'latest'), 'utf8')).trim()).toBe('step-000100');
    expect((await loadCheckpoint(ckpts)).step).toBe(100);

    await rm(filler);
    await saveCheckpoint(ckpts, contents(200, optimizer(names, 8192, { lr: 1 })));
    expect((await loadCheckpoint(ckpts)).step).toBe(200);
  });
});
