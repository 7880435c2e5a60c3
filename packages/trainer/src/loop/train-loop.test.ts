import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpoint, verifyAdapter, type JsonValue } from '@vla-lora/checkpoint-io';
import { initBackend } from '@vla-lora/tfjs-backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunOutputWriteError } from '../errors.js';
import { createLogger } from '../log/index.js';
import { createLoopOptimizer } from '../optim-adapter.js';
import { warmupCosine } from '../optim/index.js';
import { buildToy, TOY_ADAPTER_CONFIG, TOY_CONFIG, TOY_SCHED, ToyData, type ToyModel } from '../../test-support/toy.js';
import { trainLoop, type TrainLoopOptions } from './index.js';
import type { ToyBatch } from '../../test-support/toy.js';
import { haveTensorBoardReader, readEventFile } from '../../test-support/tensorboard-reader.js';

const config: JsonValue = TOY_CONFIG;
const sched = TOY_SCHED;
const adapterConfig = TOY_ADAPTER_CONFIG as unknown as NonNullable<TrainLoopOptions<ToyBatch>['adapterConfig']>;

let root: string;
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  root = await mkdtemp(join(tmpdir(), 'trainer-loop-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function opts(
  model: ToyModel,
  runDir: string,
  totalSteps: number,
  extra: Partial<TrainLoopOptions<ToyBatch>> = {},
): TrainLoopOptions<ToyBatch> {
  return {
    tf,
    runDir,
    params: model.params,
    lossFn: model.lossFn,
    data: new ToyData(4),
    optimizer: createLoopOptimizer(model.params, {
      lr: sched.peakLr,
      betas: [0.9, 0.95],
      eps: 1e-8,
      weightDecay: 0.01,
    }),
    lrAt: (s) => warmupCosine(s, sched),
    scheduler: { name: 'warmup_cosine', ...sched },
    seed: 11,
    totalSteps,
    saveEvery: 3,
    config,
    adapterConfig,
    logger: createLogger({ mode: 'silent' }),
    handleSignals: false,
    ...extra,
  };
}

async function weights(m: ToyModel): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [n, v] of m.params) out.set(n, new Float32Array((await v.data()) as Float32Array));
  return out;
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.length === ub.length && ua.every((x, i) => x === ub[i]);
}

describe('trainLoop', () => {
  it('N straight steps == k steps + resume: bit-identical weights and losses', async () => {
    const straight = buildToy(1);
    const rs = await trainLoop(opts(straight, join(root, 'straight'), 8));
    expect(rs.step).toBe(8);
    expect(rs.history[7]!.loss).toBeLessThan(rs.history[0]!.loss as number);

    const first = buildToy(1);
    const r1 = await trainLoop(opts(first, join(root, 'split'), 5));
    expect(r1.step).toBe(5);
    first.dispose();

    // a fresh process would build the model from scratch: different init, all overwritten by resume
    const second = buildToy(99);
    const loaded = await loadCheckpoint(join(root, 'split', 'checkpoints'), { config });
    expect(loaded.step).toBe(5);
    const r2 = await trainLoop(opts(second, join(root, 'split'), 8, { resumeFrom: loaded }));
    expect(r2.stepsRun).toBe(3);

    const wa = await weights(straight);
    const wb = await weights(second);
    for (const [n, a] of wa) expect(sameBits(a, wb.get(n) as Float32Array), n).toBe(true);
    expect(r2.history.map((h) => h.loss)).toEqual(rs.history.map((h) => h.loss));
    expect(r2.history.map((h) => h.lr)).toEqual(rs.history.map((h) => h.lr));
    // metrics.jsonl continues the curve without gaps or duplicates
    const lines = (await readFile(join(root, 'split', 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { step: number });
    expect(lines.map((l) => l.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // so does the TensorBoard event file: one file, file_version then steps 1..8 with the same losses
    const tbDir = join(root, 'split', 'tensorboard');
    const tbFiles = await readdir(tbDir);
    expect(tbFiles).toEqual([expect.stringMatching(/^events\.out\.tfevents\.\d+\./)]);
    if (haveTensorBoardReader) {
      const back = await readEventFile(join(tbDir, tbFiles[0]!));
      expect(back.events[0]!.file_version).toBe('brain.Event:2');
      expect(back.events.slice(1).map((e) => e.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      const loss = back.events.slice(1).map((e) => e.values!.find((v) => v[0] === 'train/loss')![1]);
      expect(loss).toEqual(r2.history.map((h) => Math.fround(h.loss as number)));
    } else console.warn('SKIPPED reading the event file back: needs protobuf-compiler + python3-protobuf');
    // the adapter saved in the checkpoint is a valid PEFT adapter
    const report = await verifyAdapter(join(root, 'split', 'checkpoints', 'step-000008', 'adapter'));
    expect(report.loraTensors).toBe(2);
    straight.dispose();
    second.dispose();
  });

  it('optimizer.safetensors of a resumed run is byte-identical to a straight run; hyper.lr is the LR in effect', async () => {
    // Parameters in an unsorted order (as a model builds them); resume reads them back sorted.
    const reversed = (m: ToyModel) => new Map([...m.params].reverse());
    const straight = buildToy(1);
    await trainLoop(opts(straight, join(root, 'bytes-straight'), 8, { params: reversed(straight) }));
    const first = buildToy(1);
    await trainLoop(opts(first, join(root, 'bytes-split'), 5, { params: reversed(first) }));
    const second = buildToy(99);
    const loaded = await loadCheckpoint(join(root, 'bytes-split', 'checkpoints'), { config });
    // The saved LR is the one in effect at step 5 (what update 6 uses), the peak is kept beside it.
    expect(loaded.optimizer.hyper['lr']).toBe(warmupCosine(5, sched));
    expect(loaded.optimizer.hyper['initial_lr']).toBe(sched.peakLr);
    expect(warmupCosine(5, sched)).not.toBe(sched.peakLr);
    await trainLoop(opts(second, join(root, 'bytes-split'), 8, { params: reversed(second), resumeFrom: loaded }));
    const file = (run: string) => readFile(join(root, run, 'checkpoints', 'step-000008', 'optimizer.safetensors'));
    expect((await file('bytes-straight')).equals(await file('bytes-split'))).toBe(true);
    straight.dispose();
    first.dispose();
    second.dispose();
  });

  it('reads the saved schedule back on resume: a different schedule is a ResumeError unless allowed', async () => {
    const first = buildToy(1);
    await trainLoop(opts(first, join(root, 'sched'), 3));
    first.dispose();
    const other = { ...sched, peakLr: 0.5 };
    const changed = (extra: Partial<TrainLoopOptions<ToyBatch>>) => ({
      lrAt: (s: number) => warmupCosine(s, other),
      scheduler: { name: 'warmup_cosine', ...other },
      ...extra,
    });
    const m = buildToy(2);
    const loaded = await loadCheckpoint(join(root, 'sched', 'checkpoints'), { config });
    await expect(trainLoop(opts(m, join(root, 'sched'), 4, changed({ resumeFrom: loaded })))).rejects.toThrow(
      /different learning-rate schedule: the checkpoint's schedule is .*"peakLr":0.05.*this run's is .*"peakLr":0.5/,
    );
    // Same description, but an lrAt that does not match it: caught by the saved LR in effect.
    await expect(
      trainLoop(opts(m, join(root, 'sched'), 4, { resumeFrom: loaded, lrAt: (s) => warmupCosine(s, other) })),
    ).rejects.toThrow(/recorded lr 0\.0\d+ in effect at step 3, this run's schedule gives 0\.\d+/);
    const warnings: string[] = [];
    const logger = { ...createLogger({ mode: 'silent' }), warn: (w: string) => void warnings.push(w) };
    const r = await trainLoop(
      opts(m, join(root, 'sched'), 4, changed({ resumeFrom: loaded, allowScheduleChange: true, logger })),
    );
    expect(r.step).toBe(4);
    expect(warnings.join('\n')).toMatch(/different learning-rate schedule.*override was given/);
    m.dispose();
  });

  it('a run output that cannot be written (here report.html is a directory) is a typed error naming file, step and checkpoint', async () => {
    const dir = join(root, 'unwritable-report');
    await mkdir(join(dir, 'report.html'), { recursive: true });
    const m = buildToy(1);
    const err = await trainLoop(opts(m, dir, 6)).catch((e: unknown) => e);
    m.dispose();
    expect(err).toBeInstanceOf(RunOutputWriteError);
    expect((err as Error).message).toMatch(
      /could not write .*report\.html at step 3: .*The last good checkpoint is .*step-000003; free space and resume with --resume/,
    );
  });

  it('gradient accumulation of 2 x 2 matches one batch of 4 (mean loss)', async () => {
    const a = buildToy(3);
    const b = buildToy(3);
    const ra = await trainLoop(opts(a, join(root, 'acc-a'), 3, { data: new ToyData(4) }));
    const rb = await trainLoop(opts(b, join(root, 'acc-b'), 3, { data: new ToyData(2), gradAccumSteps: 2 }));
    for (let i = 0; i < 3; i++) expect(rb.history[i]!.loss as number).toBeCloseTo(ra.history[i]!.loss as number, 5);
    const wa = await weights(a);
    const wb = await weights(b);
    for (const [n, x] of wa) {
      const y = wb.get(n) as Float32Array;
      for (let i = 0; i < x.length; i++) expect(y[i]).toBeCloseTo(x[i] as number, 4);
    }
    a.dispose();
    b.dispose();
  });

  it('writes metrics.jsonl and an offline HTML report; memory does not grow per step', async () => {
    const m = buildToy(4);
    const o = opts(m, join(root, 'report'), 2);
    await trainLoop(o);
    const before = tf.memory().numTensors;
    await trainLoop({ ...o, totalSteps: 6, resumeFrom: await loadCheckpoint(join(root, 'report', 'checkpoints')) });
    // resuming re-assigns the variables; no per-step leak
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 2);
    const html = await readFile(join(root, 'report', 'report.html'), 'utf8');
    expect(html).toMatch(/<svg[\s\S]*training loss[\s\S]*learning rate/);
    expect(html).not.toMatch(/<script|https?:\/\/(?!www\.w3\.org)/);
    const recs = (await readFile(join(root, 'report', 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, number>);
    expect(recs).toHaveLength(6);
    for (const r of recs)
      for (const k of ['loss', 'lr', 'grad_norm', 'step_time_s', 'samples_per_s']) expect(typeof r[k]).toBe('number');
    m.dispose();
  });

  it('SIGTERM: the step in progress finishes, a checkpoint is saved, the loop returns stoppedBy SIGTERM', async () => {
    const m = buildToy(6);
    const data = new ToyData(4);
    let calls = 0;
    const next = data.next.bind(data);
    data.next = () => {
      if (++calls === 3) process.emit('SIGTERM'); // arrives while step 3 is being computed
      return next();
    };
    const r = await trainLoop(opts(m, join(root, 'sigterm'), 50, { data, handleSignals: true, saveEvery: 100 }));
    expect(r.stoppedBy).toBe('SIGTERM');
    expect(r.step).toBe(3);
    expect(r.lastCheckpoint).toMatch(/step-000003$/);
    expect((await loadCheckpoint(join(root, 'sigterm', 'checkpoints'))).step).toBe(3);
    expect(process.listenerCount('SIGTERM')).toBe(0); // handlers removed
    m.dispose();
  });

  it('keeps the last K checkpoints', async () => {
    const m = buildToy(5);
    await trainLoop(opts(m, join(root, 'keep'), 9, { saveEvery: 2, retention: { keepLast: 2 } }));
    const { listStepDirs } = await import('@vla-lora/checkpoint-io');
    expect((await listStepDirs(join(root, 'keep', 'checkpoints'))).map((d) => d.step)).toEqual([8, 9]);
    m.dispose();
  });
});
