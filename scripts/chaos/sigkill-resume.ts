// SIGKILL at random points of a training run, then resume (through prepareRunDir, as the CLI does:
// stale lock takeover, restart when no checkpoint exists yet), possibly several times, until the
// run completes; the final adapter / optimizer / trainable bytes must equal an uninterrupted run's.
//   tsx scripts/chaos/sigkill-resume.ts [--trials 50] [--steps 24] [--save-every 4] [--seed 1]
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { numFlag, prng, ROOT, runTs, sha256, sleep, summary } from './common.js';

const argv = process.argv.slice(2);
const trials = numFlag(argv, 'trials', 50);
const steps = numFlag(argv, 'steps', 24);
const every = numFlag(argv, 'save-every', 4);
const rand = prng(numFlag(argv, 'seed', 1));
const STEP_DELAY_MS = 25;
const trainerDir = join(ROOT, 'packages', 'trainer');
const child = join(trainerDir, 'src', 'testing', 'toy-child.ts');
const PIECES = ['adapter/adapter_model.safetensors', 'optimizer.safetensors', 'trainable.safetensors'];
const stepDir = `step-${String(steps).padStart(6, '0')}`;

const root = await mkdtemp(join(tmpdir(), 'chaos-sigkill-'));
const args = (runDir: string) => [
  runDir,
  String(steps),
  String(every),
  '--prepare',
  '--step-delay',
  String(STEP_DELAY_MS),
];
const stepLines = (out: string) => out.split('\n').filter((l) => l.startsWith('{"event":"step"')).length;

async function finalHashes(runDir: string): Promise<string[]> {
  const latest = (await readFile(join(runDir, 'checkpoints', 'latest'), 'utf8')).trim();
  if (latest !== stepDir) throw new Error(`latest is ${latest}, expected ${stepDir}`);
  return Promise.all(PIECES.map((p) => sha256(join(runDir, 'checkpoints', stepDir, p))));
}

const t0 = performance.now();
const ref = runTs(child, args(join(root, 'reference')), trainerDir);
const refExit = await ref.exit;
const refWallMs = performance.now() - t0;
if (refExit.code !== 0) throw new Error(`reference run failed:\n${ref.out()}`);
const refHashes = await finalHashes(join(root, 'reference'));

let bitExact = 0;
let kills = 0;
let killsBeforeFirstCheckpoint = 0;
let restartsWithoutCheckpoint = 0;
const failures: string[] = [];
for (let t = 0; t < trials; t++) {
  const runDir = join(root, `trial-${t}`);
  const nKills = 1 + Math.floor(rand() * 3);
  let completed = false;
  for (let k = 0; k <= nKills && !completed; k++) {
    const c = runTs(child, args(runDir), trainerDir);
    if (k < nKills) {
      // Half the kills at a uniformly random time of the process's life (startup included), half
      // after a random number of logged steps plus jitter (mid-step, mid-save).
      if (rand() < 0.5) await sleep(rand() * refWallMs);
      else {
        const target = Math.floor(rand() * steps);
        while (stepLines(c.out()) < target && c.proc.exitCode === null) await sleep(5);
        await sleep(rand() * STEP_DELAY_MS * 2);
      }
      const hadCheckpoint = existsSync(join(runDir, 'checkpoints', 'latest'));
      c.proc.kill('SIGKILL');
      const e = await c.exit;
      if (e.signal === 'SIGKILL') {
        kills++;
        if (!hadCheckpoint) killsBeforeFirstCheckpoint++;
        continue;
      }
      if (e.code !== 0) {
        failures.push(`trial ${t}: run ${k} exited ${e.code} before the kill:\n${c.out().slice(-800)}`);
        break;
      }
      completed = true; // finished before the kill landed
    } else {
      const e = await c.exit;
      if (e.code !== 0) failures.push(`trial ${t}: final run exited ${e.code}:\n${c.out().slice(-800)}`);
      else completed = true;
    }
    if (c.out().includes('stopped before its first checkpoint')) restartsWithoutCheckpoint++;
  }
  if (!completed) continue;
  const h = await finalHashes(runDir);
  if (h.every((x, i) => x === refHashes[i])) bitExact++;
  else failures.push(`trial ${t}: final bytes differ (${PIECES.filter((_, i) => h[i] !== refHashes[i]).join(', ')})`);
  await rm(runDir, { recursive: true, force: true });
  process.stdout.write(`trial ${t + 1}/${trials}: ${nKills} kill(s), bit-exact ${bitExact}/${t + 1}\n`);
}
await rm(root, { recursive: true, force: true });
for (const f of failures) process.stdout.write(`FAILURE ${f}\n`);
summary('sigkill-resume', failures.length === 0 && bitExact === trials, [
  ['trials', trials],
  ['run', `toy LoRA model, ${steps} steps, checkpoint every ${every}, ${STEP_DELAY_MS} ms/step`],
  ['SIGKILLs delivered', kills],
  ['of which before the first checkpoint', killsBeforeFirstCheckpoint],
  ['restarts of a run with no checkpoint (warning seen)', restartsWithoutCheckpoint],
  ['bit-exact final adapter + optimizer + trainable vs uninterrupted', `${bitExact}/${trials}`],
  ['failures', failures.length],
]);
