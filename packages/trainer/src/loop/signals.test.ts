// Spawns real child processes: SIGINT saves a checkpoint and exits cleanly; SIGKILL in the middle
// of a save leaves nothing that resume would take, and the resumed run matches a straight run bit for bit.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpoint } from '@vla-lora/checkpoint-io';
import { initBackend } from '@vla-lora/tfjs-backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../log/index.js';
import { createLoopOptimizer } from '../optim-adapter.js';
import { warmupCosine } from '../optim/index.js';
import { buildToy, ToyData, TOY_ADAM, TOY_ADAPTER_CONFIG, TOY_CONFIG, TOY_SCHED } from '../../test-support/toy.js';
import { trainLoop } from './index.js';

const child = fileURLToPath(new URL('../../test-support/toy-child.ts', import.meta.url));
const pkgDir = fileURLToPath(new URL('../..', import.meta.url));

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'trainer-signals-'));
  await initBackend({ backend: 'cpu' });
});

/** The same run as toy-child.ts, in this process. */
async function straightRun(runDir: string, total: number, every: number): Promise<void> {
  const model = buildToy(1);
  await trainLoop({
    tf,
    runDir,
    params: model.params,
    lossFn: model.lossFn,
    data: new ToyData(4),
    optimizer: createLoopOptimizer(model.params, TOY_ADAM),
    lrAt: (s) => warmupCosine(s, TOY_SCHED),
    scheduler: { name: 'warmup_cosine', ...TOY_SCHED },
    seed: 11,
    totalSteps: total,
    saveEvery: every,
    config: TOY_CONFIG,
    adapterConfig: TOY_ADAPTER_CONFIG as never,
    logger: createLogger({ mode: 'silent' }),
    handleSignals: false,
  });
  model.dispose();
}
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function run(args: string[]): {
  proc: ChildProcess;
  out: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
} {
  const proc = spawn(process.execPath, ['--import', 'tsx', child, ...args], {
    cwd: pkgDir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.on('exit', (code, signal) => res({ code, signal })),
  );
  return { proc, out: () => out, exit };
}

async function waitFor(cond: () => boolean, what: string, ms = 150_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const stepsLogged = (out: string) => out.split('\n').filter((l) => l.startsWith('{"event":"step"')).length;

async function finalWeights(runDir: string): Promise<Map<string, Uint8Array>> {
  const c = await loadCheckpoint(join(runDir, 'checkpoints'));
  const m = new Map<string, Uint8Array>();
  for (const [k, t] of c.adapter?.tensors ?? []) m.set(k, t.bytes);
  for (const [k, t] of c.trainable) m.set(k, new Uint8Array(t.data.buffer));
  return m;
}

describe('signals', () => {
  it('SIGKILL during a save: resume ignores the half-written checkpoint and ends bit-identical to a straight run (in another process)', async () => {
    const straightDir = join(root, 'straight');
    await straightRun(straightDir, 6, 3);

    const dir = join(root, 'killed');
    const marker = join(root, 'paused-in-save');
    const k = run([dir, '6', '3', '--pause-at-save', '6', '--marker', marker]);
    await waitFor(() => existsSync(marker), 'the child to pause inside the step-6 save');
    k.proc.kill('SIGKILL');
    expect((await k.exit).signal).toBe('SIGKILL');
    const names = await readdir(join(dir, 'checkpoints'));
    expect(names).toContain('step-000003');
    expect(names).not.toContain('step-000006');
    expect(names.some((n) => n.startsWith('.step-000006.tmpdir-'))).toBe(true); // the half-written one
    expect((await readFile(join(dir, 'checkpoints', 'latest'), 'utf8')).trim()).toBe('step-000003');
    expect((await loadCheckpoint(join(dir, 'checkpoints'))).step).toBe(3);

    const r = run([dir, '6', '3', '--resume']);
    expect((await r.exit).code, r.out()).toBe(0);
    expect(r.out()).toMatch(/resumed from .*step-000003 at global step 3/);
    const a = await finalWeights(straightDir);
    const b = await finalWeights(dir);
    expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
    for (const [n, bytes] of a)
      expect(Buffer.compare(Buffer.from(bytes), Buffer.from(b.get(n) as Uint8Array)), n).toBe(0);
    const la = (await readFile(join(straightDir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { loss: number }).loss);
    const lb = (await readFile(join(dir, 'metrics.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { loss: number }).loss);
    expect(lb).toEqual(la);
    expect((await readdir(join(dir, 'checkpoints'))).filter((n) => n.startsWith('.'))).toEqual([]); // leftovers cleared
  }, 180_000);

  it('SIGINT: finishes the step, saves a checkpoint, exits cleanly', async () => {
    const dir = join(root, 'sigint');
    const c = run([dir, '100000', '100000', '--step-delay', '20']);
    await waitFor(() => stepsLogged(c.out()) >= 3, 'three steps');
    c.proc.kill('SIGINT');
    const { code, signal } = await c.exit;
    expect(signal).toBeNull();
    expect(code, c.out()).toBe(130);
    const done = c
      .out()
      .split('\n')
      .find((l) => l.includes('"event":"done"'));
    const doneRec = JSON.parse(done as string) as { step: number; stopped_by: string };
    expect(doneRec.stopped_by).toBe('SIGINT');
    expect(c.out()).toMatch(/SIGINT received: saving a checkpoint/);
    const loaded = await loadCheckpoint(join(dir, 'checkpoints'));
    expect(loaded.step).toBe(doneRec.step);
    expect(loaded.step).toBeGreaterThanOrEqual(3);
  }, 180_000);
});
