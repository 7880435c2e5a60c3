import { mkdtemp, mkdir, readFile, readdir, rename, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openSafetensors } from '../safetensors/index.js';
import type { PeftAdapter } from '../peft/index.js';
import {
  CheckpointIncompleteError,
  CheckpointPointerError,
  ConfigMismatchError,
  NoCheckpointError,
  OptimizerStateError,
  TrainerStateInvalidError,
  canonicalJson,
  hashConfig,
  listStepDirs,
  loadCheckpoint,
  saveCheckpoint,
  selectRetained,
  stepDirName,
  validateOptimizerAgainst,
  type CheckpointContents,
  type F32Tensor,
  type JsonValue,
} from './index.js';

const f32 = (shape: number[], seed: number): F32Tensor => {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(seed * 31 + i) * 0.37;
  return { shape, data };
};
const bytesOf = (t: F32Tensor) => new Uint8Array(t.data.buffer.slice(0));

const config: JsonValue = { model: { variant: 'tiny', lora: { r: 4, alpha: 8 } }, optim: { lr: 1e-3 }, seed: 7 };

function adapter(seed: number): PeftAdapter {
  const a = f32([4, 8], seed);
  const b = f32([8, 4], seed + 1);
  return {
    config: {
      peft_type: 'LORA',
      r: 4,
      lora_alpha: 8,
      target_modules: ['q_proj'],
      base_model_name_or_path: 'tiny',
    } as PeftAdapter['config'],
    tensors: new Map([
      ['base_model.model.layers.0.q_proj.lora_A.default.weight', { dtype: 'F32', shape: a.shape, bytes: bytesOf(a) }],
      ['base_model.model.layers.0.q_proj.lora_B.default.weight', { dtype: 'F32', shape: b.shape, bytes: bytesOf(b) }],
    ]),
  };
}

function contents(step: number, cfg: JsonValue = config): CheckpointContents {
  const names = [
    'layers.0.q_proj.lora_A.default.weight',
    'layers.0.q_proj.lora_B.default.weight',
    'action_out_proj.weight',
  ];
  const shapes = [
    [4, 8],
    [8, 4],
    [3, 8],
  ];
  return {
    state: {
      globalStep: step,
      epoch: step / 10,
      dataCursor: { epoch: 0, position: step * 2, seed: 7 },
      rng: { kind: 'philox', key: [1, 2], counter: [step, 0, 0, 0] },
      scheduler: { name: 'warmup_cosine', lastLr: 0.001 },
      metricsHistory: [{ step, loss: 1 / (step + 1), lr: 0.001 }],
      config: cfg,
    },
    optimizer: {
      expAvg: new Map(names.map((n, i) => [n, f32(shapes[i] as number[], step + i)])),
      expAvgSq: new Map(names.map((n, i) => [n, f32(shapes[i] as number[], step + 10 + i)])),
      steps: new Map(names.map((n) => [n, step])),
      hyper: { lr: 0.001, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 1e-10 },
    },
    adapter: adapter(step),
    trainable: new Map([['action_out_proj.weight', f32([3, 8], step + 99)]]),
  };
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ckpt-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('saveCheckpoint / loadCheckpoint', () => {
  it('round-trips every piece, step from the state, latest written last', async () => {
    const c = contents(250);
    const saved = await saveCheckpoint(dir, c);
    expect(saved.dir).toBe(join(dir, 'step-000250'));
    expect((await readFile(join(dir, 'latest'), 'utf8')).trim()).toBe('step-000250');
    expect((await readdir(saved.dir)).sort()).toEqual([
      'adapter',
      'optimizer.safetensors',
      'trainable.safetensors',
      'trainer_state.json',
    ]);
    const disk = JSON.parse(await readFile(join(saved.dir, 'trainer_state.json'), 'utf8')) as Record<string, unknown>;
    expect(disk['global_step']).toBe(250);
    expect(disk['config_sha256']).toBe(hashConfig(config));
    expect(Object.keys(disk['files'] as object).sort()).toEqual([
      'adapter/adapter_config.json',
      'adapter/adapter_model.safetensors',
      'optimizer.safetensors',
      'trainable.safetensors',
    ]);

    const loaded = await loadCheckpoint(dir, { config });
    expect(loaded.step).toBe(250);
    expect(loaded.warnings).toEqual([]);
    expect(loaded.state.dataCursor).toEqual(c.state.dataCursor);
    expect(loaded.state.rng).toEqual(c.state.rng);
    expect(loaded.state.scheduler).toEqual(c.state.scheduler);
    expect(loaded.state.metricsHistory).toEqual(c.state.metricsHistory);
    for (const [name, t] of c.optimizer.expAvg) {
      expect(loaded.optimizer.expAvg.get(name)?.data).toEqual(t.data);
      expect(loaded.optimizer.expAvgSq.get(name)?.data).toEqual(c.optimizer.expAvgSq.get(name)?.data);
      expect(loaded.optimizer.steps.get(name)).toBe(250);
    }
    expect(loaded.optimizer.hyper).toEqual(c.optimizer.hyper);
    expect(loaded.trainable.get('action_out_proj.weight')?.data).toEqual(
      c.trainable?.get('action_out_proj.weight')?.data,
    );
    expect(loaded.adapter).not.toBeNull();
    const a = loaded.adapter?.tensors.get('base_model.model.layers.0.q_proj.lora_A.default.weight');
    expect(a?.shape).toEqual([4, 8]);
    expect(new Float32Array((a as { bytes: Uint8Array }).bytes.slice().buffer)).toEqual(f32([4, 8], 250).data);
  });

  it('keys optimizer moments by parameter name, never by position', async () => {
    const saved = await saveCheckpoint(dir, contents(3));
    const r = await openSafetensors(join(saved.dir, 'optimizer.safetensors'));
    try {
      expect(
        r
          .list()
          .map((t) => t.name)
          .sort(),
      ).toEqual([
        'exp_avg.action_out_proj.weight',
        'exp_avg.layers.0.q_proj.lora_A.default.weight',
        'exp_avg.layers.0.q_proj.lora_B.default.weight',
        'exp_avg_sq.action_out_proj.weight',
        'exp_avg_sq.layers.0.q_proj.lora_A.default.weight',
        'exp_avg_sq.layers.0.q_proj.lora_B.default.weight',
      ]);
      expect(JSON.parse(r.metadata?.['steps'] ?? '{}')).toEqual({
        'action_out_proj.weight': 3,
        'layers.0.q_proj.lora_A.default.weight': 3,
        'layers.0.q_proj.lora_B.default.weight': 3,
      });
    } finally {
      await r.close();
    }
    const loaded = await loadCheckpoint(dir);
    const live = new Map<string, number[]>([
      ['layers.0.q_proj.lora_A.default.weight', [4, 8]],
      ['layers.0.q_proj.lora_B.default.weight', [8, 4]],
      ['action_out_proj.weight', [3, 8]],
    ]);
    expect(() => validateOptimizerAgainst(loaded.optimizer, live)).not.toThrow();
    live.delete('action_out_proj.weight');
    live.set('state_proj.weight', [3, 8]);
    expect(() => validateOptimizerAgainst(loaded.optimizer, live)).toThrow(
      /state_proj\.weight[\s\S]*action_out_proj\.weight/,
    );
    live.delete('state_proj.weight');
    live.set('action_out_proj.weight', [8, 3]);
    expect(() => validateOptimizerAgainst(loaded.optimizer, live)).toThrow(OptimizerStateError);
  });

  it('ignores a half-written temp dir left by a killed save, and the next save removes it', async () => {
    await saveCheckpoint(dir, contents(250));
    // what a SIGKILL mid-save leaves: a temp sibling with some files, latest untouched
    const tmp = join(dir, '.step-000300.tmpdir-4242-deadbeef');
    await mkdir(join(tmp, 'adapter'), { recursive: true });
    await writeFile(join(tmp, 'optimizer.safetensors'), new Uint8Array(10));
    expect((await listStepDirs(dir)).map((d) => d.name)).toEqual(['step-000250']);
    const loaded = await loadCheckpoint(dir, { config });
    expect(loaded.step).toBe(250);
    await saveCheckpoint(dir, contents(260));
    expect((await readdir(dir)).sort()).toEqual(['latest', 'step-000250', 'step-000260']);
  });

  it('a save that fails before the rename leaves nothing resume would take', async () => {
    await saveCheckpoint(dir, contents(10));
    await expect(
      saveCheckpoint(dir, contents(20), {
        beforeCommit: async () => {
          throw new Error('disk full');
        },
      }),
    ).rejects.toThrow('disk full');
    expect((await readdir(dir)).sort()).toEqual(['latest', 'step-000010']);
    expect((await loadCheckpoint(dir)).step).toBe(10);
  });

  it('latest naming a missing dir: error naming the newest complete one, or the documented fallback', async () => {
    await saveCheckpoint(dir, contents(100));
    await saveCheckpoint(dir, contents(200));
    await rm(join(dir, 'step-000200'), { recursive: true });
    const err = await loadCheckpoint(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointPointerError);
    expect(String((err as Error).message)).toMatch(/step-000200, which does not exist[\s\S]*step-000100/);
    const loaded = await loadCheckpoint(dir, { onMissingLatest: 'newest-complete' });
    expect(loaded.step).toBe(100);
    expect(loaded.warnings.join('\n')).toMatch(/does not exist/);
  });

  it('without a latest pointer takes the newest complete dir with a warning; with none at all says so', async () => {
    await expect(loadCheckpoint(dir)).rejects.toThrow(NoCheckpointError);
    await saveCheckpoint(dir, contents(5));
    await rm(join(dir, 'latest'));
    const loaded = await loadCheckpoint(dir);
    expect(loaded.step).toBe(5);
    expect(loaded.warnings[0]).toMatch(/latest is missing/);
  });

  it('rejects a malformed pointer (no path tricks)', async () => {
    await saveCheckpoint(dir, contents(5));
    await writeFile(join(dir, 'latest'), '../../etc\n');
    await expect(loadCheckpoint(dir)).rejects.toThrow(CheckpointPointerError);
  });

  it('config hash mismatch is an error naming the keys, unless explicitly overridden', async () => {
    await saveCheckpoint(dir, contents(7));
    const other: JsonValue = { model: { variant: 'tiny', lora: { r: 8, alpha: 8 } }, optim: { lr: 1e-3 }, seed: 7 };
    const err = await loadCheckpoint(dir, { config: other }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigMismatchError);
    expect((err as ConfigMismatchError).differingKeys).toEqual(['model.lora.r']);
    expect((err as Error).message).toMatch(/model\.lora\.r[\s\S]*override/);
    const loaded = await loadCheckpoint(dir, { config: other, allowConfigMismatch: true });
    expect(loaded.step).toBe(7);
    expect(loaded.warnings.join('\n')).toMatch(/model\.lora\.r/);
    // key order alone never changes the hash
    await expect(
      loadCheckpoint(dir, {
        config: { seed: 7, optim: { lr: 1e-3 }, model: { lora: { alpha: 8, r: 4 }, variant: 'tiny' } },
      }),
    ).resolves.toBeTruthy();
  });

  it('names missing or truncated pieces', async () => {
    const saved = await saveCheckpoint(dir, contents(9));
    await rm(join(saved.dir, 'optimizer.safetensors'));
    await truncate(join(saved.dir, 'trainable.safetensors'), 12);
    const err = await loadCheckpoint(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CheckpointIncompleteError);
    expect((err as CheckpointIncompleteError).missing).toEqual([
      'optimizer.safetensors',
      'trainable.safetensors (has 12 bytes, trainer_state.json recorded ' +
        String(
          JSON.parse(await readFile(join(saved.dir, 'trainer_state.json'), 'utf8')).files['trainable.safetensors'],
        ) +
        ')',
    ]);
    await rm(join(saved.dir, 'trainer_state.json'));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/missing trainer_state\.json/);
  });

  it('a null or absent global step is an error that says what to do', async () => {
    const saved = await saveCheckpoint(dir, contents(9));
    const p = join(saved.dir, 'trainer_state.json');
    const disk = JSON.parse(await readFile(p, 'utf8')) as Record<string, unknown>;
    await writeFile(p, JSON.stringify({ ...disk, global_step: null }));
    const err = await loadCheckpoint(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrainerStateInvalidError);
    expect((err as Error).message).toMatch(
      /global_step is null[\s\S]*never guessed from a directory name[\s\S]*--overwrite/,
    );
    delete disk['global_step'];
    await writeFile(p, JSON.stringify(disk));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/global_step is absent/);
  });

  it('the step comes from trainer_state.json, not from the directory name', async () => {
    await saveCheckpoint(dir, contents(250));
    await rename(join(dir, 'step-000250'), join(dir, 'step-000999'));
    await writeFile(join(dir, 'latest'), 'step-000999\n');
    const loaded = await loadCheckpoint(dir);
    expect(loaded.step).toBe(250);
    expect(loaded.warnings.join('\n')).toMatch(/holds global step 250/);
  });

  it('refuses to save a null step', async () => {
    const c = contents(1);
    (c.state as { globalStep: unknown }).globalStep = null;
    await expect(saveCheckpoint(dir, c)).rejects.toThrow(TrainerStateInvalidError);
  });
});

describe('retention', () => {
  it('keeps the last K and every N-th, and never the pointer target', async () => {
    for (let s = 1; s <= 10; s++) await saveCheckpoint(dir, contents(s), { retention: { keepLast: 3, keepEvery: 5 } });
    expect((await listStepDirs(dir)).map((d) => d.step)).toEqual([5, 8, 9, 10]);
    const all = [1, 2, 3].map((s) => ({ name: stepDirName(s), step: s }));
    expect([...selectRetained(all, { keepLast: 1 }, 'step-000001')].sort()).toEqual(['step-000001', 'step-000003']);
    expect([...selectRetained(all, {}, null)].length).toBe(3);
  });
});

describe('config hash', () => {
  it('is canonical', () => {
    expect(canonicalJson({ b: 1, a: [1, { d: 2, c: null }] })).toBe('{"a":[1,{"c":null,"d":2}],"b":1}');
    expect(hashConfig({ a: 1, b: 2 })).toBe(hashConfig({ b: 2, a: 1 }));
    expect(hashConfig({ a: 1 })).not.toBe(hashConfig({ a: 2 }));
    expect(hashConfig({ a: 1 })).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
