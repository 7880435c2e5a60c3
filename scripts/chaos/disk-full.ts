// Disk full during training: the run dir lives on a small tmpfs; at a random step the disk is
// filled (leaving a random few KiB). The run must stop with a clear error (CheckpointWriteError:
// file, step, last good checkpoint), and after the space is freed, resume must complete with the
// same bytes as an uninterrupted run. Needs root (mount); says SKIPPED otherwise.
//   tsx scripts/chaos/disk-full.ts [--trials 12] [--steps 24] [--save-every 4] [--seed 2]
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numFlag, prng, ROOT, runTs, sha256, sleep, summary } from './common.js';

const argv = process.argv.slice(2);
const trials = numFlag(argv, 'trials', 12);
const steps = numFlag(argv, 'steps', 24);
const every = numFlag(argv, 'save-every', 4);
const rand = prng(numFlag(argv, 'seed', 2));
const trainerDir = join(ROOT, 'packages', 'trainer');
const child = join(trainerDir, 'src', 'testing', 'toy-child.ts');
const PIECES = ['adapter/adapter_model.safetensors', 'optimizer.safetensors', 'trainable.safetensors'];
const stepDir = `step-${String(steps).padStart(6, '0')}`;
const args = (runDir: string) => [runDir, String(steps), String(every), '--prepare', '--step-delay', '25'];
const stepLines = (out: string) => out.split('\n').filter((l) => l.startsWith('{"event":"step"')).length;

const root = await mkdtemp(join(tmpdir(), 'chaos-diskfull-'));
const mnt = join(root, 'tmpfs');
spawnSync('mkdir', ['-p', mnt]);
if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' }).status !== 0) {
  process.stdout.write('\n== chaos disk-full: SKIPPED (cannot mount a tmpfs: needs root)\n');
  await rm(root, { recursive: true, force: true });
  process.exit(0);
}
const avail = (): number =>
  Number(spawnSync('df', ['--output=avail', '-B1', mnt], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1) ?? '0');
const hashes = async (runDir: string) =>
  Promise.all(PIECES.map((p) => sha256(join(runDir, 'checkpoints', stepDir, p))));

try {
  const ref = runTs(child, args(join(root, 'reference')), trainerDir);
  if ((await ref.exit).code !== 0) throw new Error(`reference run failed:\n${ref.out()}`);
  const refHashes = await hashes(join(root, 'reference'));

  const outcomes = { clear: 0, raw: 0, completedAnyway: 0 };
  let resumedBitExact = 0;
  const examples: string[] = [];
  const failures: string[] = [];
  for (let t = 0; t < trials; t++) {
    const runDir = join(mnt, `trial-${t}`);
    const filler = join(mnt, 'filler');
    const c = runTs(child, args(runDir), trainerDir);
    const at = Math.floor(rand() * steps);
    while (stepLines(c.out()) < at && c.proc.exitCode === null) await sleep(5);
    const leave = Math.floor(rand() * 4) * 4096;
    await writeFile(filler, Buffer.alloc(Math.max(0, avail() - leave))).catch(() => undefined);
    const e = await c.exit;
    const out = c.out();
    if (e.code === 0) outcomes.completedAnyway++;
    else if (
      /CheckpointWriteError: checkpoint for step \d+ was NOT saved: writing \S+ failed: ENOSPC/.test(out) ||
      /RunOutputWriteError: could not write \S+ at step \d+: .*ENOSPC.*(last good checkpoint is|No checkpoint was saved yet)/.test(
        out,
      )
    ) {
      outcomes.clear++;
      if (examples.length < 2)
        examples.push(out.split('\n').find((l) => /^(CheckpointWriteError|RunOutputWriteError):/.test(l)) ?? '');
    } else {
      outcomes.raw++;
      failures.push(`trial ${t} (filled at step ${at}, ${leave} B left): unclear failure:\n${out.slice(-600)}`);
    }
    await rm(filler, { force: true });
    // Resume after freeing space (repeat once if needed: a run that completed needs nothing).
    for (let k = 0; k < 2; k++) {
      const latest = await readFile(join(runDir, 'checkpoints', 'latest'), 'utf8').catch(() => '');
      if (latest.trim() === stepDir) break;
      const r = runTs(child, args(runDir), trainerDir);
      const re = await r.exit;
      if (re.code !== 0)
        failures.push(`trial ${t}: resume after freeing space exited ${re.code}:\n${r.out().slice(-600)}`);
    }
    try {
      const h = await hashes(runDir);
      if (h.every((x, i) => x === refHashes[i])) resumedBitExact++;
      else failures.push(`trial ${t}: final bytes differ from the uninterrupted run`);
    } catch (err) {
      failures.push(`trial ${t}: no final checkpoint: ${(err as Error).message}`);
    }
    await rm(runDir, { recursive: true, force: true });
    process.stdout.write(`trial ${t + 1}/${trials}: filled at step ${at} leaving ${leave} B → exit ${e.code}\n`);
  }
  for (const f of failures) process.stdout.write(`FAILURE ${f}\n`);
  summary('disk-full', failures.length === 0, [
    ['trials', `${trials} (1 MiB tmpfs; disk filled at a random step, 0-12 KiB left)`],
    ['stopped with CheckpointWriteError / RunOutputWriteError (file, step, last good checkpoint)', outcomes.clear],
    ['stopped with any other error', outcomes.raw],
    ['completed anyway (enough space was left)', outcomes.completedAnyway],
    ['resumed after freeing space, final bytes equal the uninterrupted run', `${resumedBitExact}/${trials}`],
    ['example message', examples[0] ?? '(none)'],
    ['failures', failures.length],
  ]);
} finally {
  spawnSync('umount', [mnt]);
  await rm(root, { recursive: true, force: true });
}
