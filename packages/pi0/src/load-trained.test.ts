// loadTrainedPi0: what is loaded is what the files hold (counted from the files), merged == unmerged,
// and every way an adapter can be wrong stops the load with a typed error that says why.
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { fromFloat32, openSafetensors, toFloat32, writeSafetensors } from '@vla-lora/checkpoint-io';
import { loraLayers } from '@vla-lora/lora-core';
import {
  copyDir,
  cutRank,
  editedAdapter,
  FIXTURES,
  maxAbsDiff,
  type TempDir,
  type TinyRun,
  tinyLoadOptions,
  tinyRequest,
  tinyRunInTempDir,
} from '../test-support/index.js';
import { getTrainConfig } from './config/index.js';
import { AdapterRefusedError, NormStatsRefusedError } from './errors.js';
import { parseLiberoRequest } from './libero-request.js';
import { loadTrainedPi0, type LoadTrainedPi0Options } from './load-trained.js';
import { noiseFor, ServedPi0 } from './served-policy.js';

let tmp: TempDir;
let run: TinyRun;

beforeAll(async () => ({ tmp, run } = await tinyRunInTempDir('pi0-load-')), 120_000);
afterAll(async () => tmp?.remove());

const opts = (over: Partial<LoadTrainedPi0Options> = {}): LoadTrainedPi0Options => tinyLoadOptions(run, over);

async function fileCounts(path: string): Promise<{ tensors: number; values: number }> {
  const r = await openSafetensors(path);
  try {
    const list = r.list();
    return { tensors: list.length, values: list.reduce((a, t) => a + t.shape.reduce((x, y) => x * y, 1), 0) };
  } finally {
    await r.close();
  }
}

describe('loadTrainedPi0', () => {
  it('loads base + adapter + heads strictly and reports the counts of what the files hold', async () => {
    const lines: string[] = [];
    const loaded = await loadTrainedPi0(opts({ log: (l) => lines.push(l) }));
    try {
      const adapterFile = await fileCounts(join(run.adapterDir, 'adapter_model.safetensors'));
      const headsFile = await fileCounts(run.trainablePath);
      const layers = loraLayers(loaded.policy);
      expect(adapterFile.tensors).toBe(2 * layers.length);
      expect(loaded.summary.lora).toMatchObject({
        tensors: adapterFile.tensors,
        values: adapterFile.values,
        modules: layers.length,
        merged: false,
      });
      expect(loaded.summary.heads).toMatchObject({ tensors: headsFile.tensors, values: headsFile.values });
      expect(loaded.summary.loraLine).toBe(
        `LoRA: ${adapterFile.tensors} tensors, ${adapterFile.values.toLocaleString('en-US')} values, unmerged`,
      );
      expect(lines.some((l) => l.startsWith(loaded.summary.loraLine))).toBe(true);
      expect(lines.some((l) => /^trained heads: 10 tensors/.test(l))).toBe(true);
      expect(lines.some((l) => /^trainable params: /.test(l))).toBe(true);
      // the values in the model are the file's
      const r = await openSafetensors(join(run.adapterDir, 'adapter_model.safetensors'));
      const [name, layer] = layers[3]!;
      const fileB = await r.readFloat32(`base_model.model.${name}.lora_B.weight`);
      await r.close();
      expect(maxAbsDiff(await layer.loraB.data(), fileB)).toBe(0);
      expect(fileB.some((x) => x !== 0)).toBe(true);
    } finally {
      loaded.dispose();
    }
  });

  it('--merge serves the same actions as the unmerged policy, and the adapter does change them', async () => {
    const plain = await loadTrainedPi0(opts());
    const merged = await loadTrainedPi0(opts({ merge: true }));
    try {
      expect(merged.summary.loraLine).toMatch(/, merged$/);
      expect(loraLayers(merged.policy).every(([, l]) => l.merged)).toBe(true);
      const a = new ServedPi0({ policy: plain.policy, trainConfig: plain.trainConfig, normStats: plain.normStats });
      const b = new ServedPi0({ policy: merged.policy, trainConfig: merged.trainConfig, normStats: merged.normStats });
      const req = parseLiberoRequest(tinyRequest(5), { imageSize: 32, stateDim: 8 });
      const noise = noiseFor(3, 0, a.horizon * 32);
      const ya = await a.sample(req, noise);
      const yb = await b.sample(req, noise);
      expect(ya.length).toBe(10 * 7);
      expect(maxAbsDiff(ya, yb)).toBeLessThan(1e-4);
      // with the adapter switched off the actions differ: the adapter is really in the forward pass
      for (const [, l] of loraLayers(plain.policy)) l.adapterEnabled = false;
      const yOff = await a.sample(req, noise);
      expect(maxAbsDiff(ya, yOff)).toBeGreaterThan(1e-3);
    } finally {
      plain.dispose();
      merged.dispose();
    }
  });

  it('does not leak tensors per request', async () => {
    const loaded = await loadTrainedPi0(opts());
    try {
      const served = new ServedPi0({
        policy: loaded.policy,
        trainConfig: loaded.trainConfig,
        normStats: loaded.normStats,
      });
      await served.infer(tinyRequest(1));
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) await served.infer(tinyRequest(i));
      expect(tf.memory().numTensors).toBe(before);
    } finally {
      loaded.dispose();
    }
  });
});

describe('the seeded base', () => {
  it("loads an adapter trained on the config's seeded base (no base weights file)", async () => {
    const dir = await editedAdapter(run.adapterDir, join(tmp.path, 'seeded', 'adapter'), (a) => {
      (a.config as unknown as Record<string, unknown>)['base_model_name_or_path'] = 'vla-lora:pi0_tiny_lora:seed42';
    });
    const lines: string[] = [];
    const l = await loadTrainedPi0({
      config: getTrainConfig(run.config),
      baseWeights: null,
      adapter: dir,
      trainable: run.trainablePath,
      normStats: run.normStatsPath,
      log: (x) => lines.push(x),
    });
    try {
      expect(lines.some((x) => /^base weights: no --base-weights: seeded random init \(seed 42\)/.test(x))).toBe(true);
      expect(l.summary.lora.tensors).toBe(56);
    } finally {
      l.dispose();
    }
  });
});

describe('loadTrainedPi0 refuses', () => {
  const refuses = async (o: LoadTrainedPi0Options, type: new (...a: never[]) => Error, re: RegExp): Promise<void> => {
    const before = tf.memory().numTensors;
    const err = await loadTrainedPi0(o).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(type);
    expect((err as Error).message).toMatch(re);
    expect(tf.memory().numTensors).toBe(before); // nothing half-built is left behind
  };

  it('the ZeRO-3 40-byte placeholder adapter', async () => {
    const dir = await copyDir(join(FIXTURES, 'zero/zero3-w4-bf16/checkpoint-5000'), join(tmp.path, 'placeholder'));
    await refuses(opts({ adapter: dir }), AdapterRefusedError, /holds no tensors.*ZeRO/);
  });

  it('an adapter for another model (PEFT tiny Gemma fixture)', async () => {
    await refuses(
      opts({ adapter: join(FIXTURES, 'peft-tiny-gemma/adapter') }),
      AdapterRefusedError,
      /belong to no LoRA-wrapped module of this model .*another model or other target modules/,
    );
  });

  it("an adapter saved in LeRobot's layout (base_model.model.model.…) loads onto our base with the same values", async () => {
    // LeRobot's PI0Policy holds PI0Pytorch as .model: its PEFT keys and target regexes carry "model."
    const dir = await editedAdapter(run.adapterDir, join(tmp.path, 'lerobot', 'adapter'), (a) => {
      a.tensors = new Map(
        [...a.tensors].map(([k, v]) => [k.replace('base_model.model.', 'base_model.model.model.'), v]),
      );
      const c = a.config as unknown as Record<string, unknown>;
      c.target_modules = `model\\.${c.target_modules as string}`;
      for (const key of ['rank_pattern', 'alpha_pattern']) {
        const pat = (c[key] ?? {}) as Record<string, number>;
        c[key] = Object.fromEntries(Object.entries(pat).map(([k, v]) => [`model\\.${k}`, v]));
      }
    });
    const lines: string[] = [];
    const ours = await loadTrainedPi0(opts());
    const theirs = await loadTrainedPi0(
      opts({ adapter: dir, trainable: run.trainablePath, normStats: run.normStatsPath, log: (l) => lines.push(l) }),
    );
    try {
      expect(lines.some((l) => /^adapter keys: 56 renamed from another pi0 layout/.test(l))).toBe(true);
      const a = new ServedPi0({ policy: ours.policy, trainConfig: ours.trainConfig, normStats: ours.normStats });
      const b = new ServedPi0({ policy: theirs.policy, trainConfig: theirs.trainConfig, normStats: theirs.normStats });
      const ya = (await a.infer({ ...tinyRequest(2), noise_seed: 5 }))['actions'] as { data: Uint8Array };
      const yb = (await b.infer({ ...tinyRequest(2), noise_seed: 5 }))['actions'] as { data: Uint8Array };
      expect(Buffer.compare(Buffer.from(ya.data), Buffer.from(yb.data))).toBe(0);
    } finally {
      ours.dispose();
      theirs.dispose();
    }
  });

  it('an adapter with a different rank', async () => {
    const dir = await editedAdapter(run.adapterDir, join(tmp.path, 'rank4'), (a) => cutRank(a, 4));
    await refuses(
      opts({ adapter: dir }),
      AdapterRefusedError,
      /rank mismatch in 28 module\(s\): the config builds r=8 .* the adapter has r=4/,
    );
  });

  it('an adapter covering only some of the wrapped modules', async () => {
    const dir = await editedAdapter(run.adapterDir, join(tmp.path, 'partial'), (a) => {
      for (const k of [...a.tensors.keys()]) if (/gemma_expert/.test(k)) a.tensors.delete(k);
    });
    await refuses(
      opts({ adapter: dir }),
      AdapterRefusedError,
      /14 of the model's 28 wrapped modules get no LoRA weights/,
    );
  });

  it('an untrained adapter (every lora_B zero) unless allowed', async () => {
    const dir = await editedAdapter(run.adapterDir, join(tmp.path, 'zeroB'), (a) => {
      for (const [k, t] of a.tensors)
        if (/lora_B/.test(k)) a.tensors.set(k, fromFloat32(new Float32Array(toFloat32(t).length), t.shape, 'F32'));
    });
    await refuses(opts({ adapter: dir }), AdapterRefusedError, /every lora_B \(28 modules\) is all zero/);
    const l = await loadTrainedPi0(
      opts({ adapter: dir, allowUntrained: true, trainable: run.trainablePath, normStats: run.normStatsPath }),
    );
    l.dispose();
  });

  it('NaN in the adapter', async () => {
    const dir = await editedAdapter(run.adapterDir, join(tmp.path, 'nan'), (a) => {
      const [k, t] = [...a.tensors][0]!;
      const v = toFloat32(t);
      v[0] = NaN;
      a.tensors.set(k, fromFloat32(v, t.shape, 'F32'));
    });
    await refuses(
      opts({ adapter: dir, trainable: run.trainablePath, normStats: run.normStatsPath }),
      AdapterRefusedError,
      /NaN\/Inf/,
    );
  });

  it('no trained heads beside the adapter, or heads that do not fit', async () => {
    const dir = await copyDir(run.adapterDir, join(tmp.path, 'lonely', 'adapter'));
    await refuses(
      opts({ adapter: dir, normStats: run.normStatsPath }),
      AdapterRefusedError,
      /trains 10 non-LoRA tensors .* no trained copy was found/,
    );
    const bad = join(tmp.path, 'bad-heads.safetensors');
    await writeSafetensors(bad, [{ name: 'state_proj.weight', dtype: 'F32', shape: [2, 2], data: new Uint8Array(16) }]);
    await refuses(opts({ trainable: bad }), AdapterRefusedError, /refusing trained heads .*state_proj\.weight/);
  });

  it('missing norm stats', async () => {
    const dir = await copyDir(run.runDir, join(tmp.path, 'nostats'));
    await rm(join(dir, 'norm_stats.json'));
    await refuses(
      opts({ adapter: join(dir, 'adapter'), dataRoot: join(tmp.path, 'nodata') }),
      NormStatsRefusedError,
      /no norm stats found/,
    );
    const wrong = join(tmp.path, 'wide.json');
    await writeFile(
      wrong,
      JSON.stringify({
        norm_stats: { state: { mean: Array(40).fill(0), std: Array(40).fill(1) }, actions: { mean: [0], std: [1] } },
      }),
    );
    await refuses(opts({ normStats: wrong }), NormStatsRefusedError, /40 dims but the model takes at most 32/);
  });

  it('a missing adapter dir, or the seeded base for an adapter trained on other weights', async () => {
    await refuses(opts({ adapter: join(tmp.path, 'nope') }), AdapterRefusedError, /does not exist/);
    await refuses(
      opts({ baseWeights: null }),
      AdapterRefusedError,
      /--seeded-base builds vla-lora:pi0_tiny_lora:seed42, but the adapter was trained on/,
    );
  });
});
