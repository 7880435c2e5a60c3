// ≥100,000 mutated safetensors / .pt (zip and legacy) / PEFT adapter inputs made from the
// fixtures, parsed by checkpoint-io's readers (every tensor read). Pass: only typed errors
// (CheckpointIoError subclasses) or valid results, no input over the per-input timeout, memory bounded.
//   tsx scripts/chaos/fuzz.ts [--inputs 100000] [--workers 2] [--timeout-ms 5000] [--seed 4]
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { numFlag, ROOT, summary } from './common.js';
import type { Fixture, FuzzJob, FuzzResult } from './fuzz-worker.js';

const argv = process.argv.slice(2);
const inputs = numFlag(argv, 'inputs', 100_000);
const nWorkers = numFlag(argv, 'workers', 2);
const timeoutMs = numFlag(argv, 'timeout-ms', 5000);
const seed = numFlag(argv, 'seed', 4);
const HEAP_LIMIT_MB = 256;

const fx = join(ROOT, 'fixtures');
const fixtures: Fixture[] = [];
const add = async (kind: Fixture['kind'], rel: string) =>
  fixtures.push({ kind, name: rel, bytes: new Uint8Array(await readFile(join(fx, rel))) });
for (const v of ['torch-1.13', 'torch-2.11'])
  for (const f of await readdir(join(fx, 'torch-pt', v))) if (f.endsWith('.pt')) await add('pt', `torch-pt/${v}/${f}`);
await add('safetensors', 'peft-tiny-gemma/io.safetensors');
await add('safetensors', 'zero/zero2-w3-fp16/expected.safetensors');
await add('adapter-safetensors', 'peft-tiny-gemma/adapter/adapter_model.safetensors');
await add('adapter-config', 'peft-tiny-gemma/adapter/adapter_config.json');
const adapter = {
  config: new Uint8Array(await readFile(join(fx, 'peft-tiny-gemma/adapter/adapter_config.json'))),
  weights: new Uint8Array(await readFile(join(fx, 'peft-tiny-gemma/adapter/adapter_model.safetensors'))),
};

const counts = { accepted: 0, typed: 0, untyped: 0, hangs: 0, oom: 0 };
const byError = new Map<string, number>();
const byFixtureKind = new Map<string, number>();
const untyped: FuzzResult[] = [];
const hangs: string[] = [];
let maxRss = 0;
let done = 0;
const t0 = performance.now();

const workerUrl = new URL('./fuzz-worker.ts', import.meta.url).href;

function runRange(from: number, to: number, w: number): Promise<void> {
  return new Promise((resolve) => {
    let last = from - 1;
    let lastAt = performance.now();
    const start = (a: number): void => {
      // Node 20 workers do not inherit tsx's loader from execArgv reliably: register it, then import.
      const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(workerUrl)}); })`;
      let progressed = false;
      const worker = new Worker(boot, {
        eval: true,
        workerData: {
          fixtures,
          adapter,
          from: a,
          to,
          seed: seed * 1_000_003 + a,
          tmp: join(tmpdir(), `chaos-fuzz-${process.pid}-${w}`),
        } satisfies FuzzJob,
        resourceLimits: { maxOldGenerationSizeMb: HEAP_LIMIT_MB },
      });
      const watchdog = setInterval(() => {
        maxRss = Math.max(maxRss, process.memoryUsage().rss);
        if (performance.now() - lastAt > timeoutMs) {
          hangs.push(`input ${last + 1} (${fixtures[(last + 1) % fixtures.length]?.name})`);
          counts.hangs++;
          clearInterval(watchdog);
          void worker.terminate();
        }
      }, 250);
      worker.on('message', (r: FuzzResult) => {
        progressed = true;
        last = r.i;
        lastAt = performance.now();
        done++;
        counts[r.outcome]++;
        const kind = fixtures[r.i % fixtures.length]?.kind ?? '?';
        byFixtureKind.set(kind, (byFixtureKind.get(kind) ?? 0) + 1);
        if (r.error) byError.set(r.error, (byError.get(r.error) ?? 0) + 1);
        if (r.outcome === 'untyped' && untyped.length < 20) untyped.push(r);
        if (done % 10_000 === 0)
          process.stdout.write(`${done}/${inputs} inputs, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
      });
      worker.on('error', (err) => {
        if ((err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') counts.oom++;
        else
          untyped.push({
            i: last + 1,
            fixture: '?',
            mutation: '?',
            outcome: 'untyped',
            error: 'worker crash',
            message: String(err),
          });
      });
      worker.on('exit', () => {
        clearInterval(watchdog);
        if (!progressed && hangs.length === 0 && counts.oom === 0) {
          process.stderr.write(`fuzz worker died before its first input:\n${untyped.at(-1)?.message ?? ''}\n`);
          process.exit(2);
        }
        if (last + 1 < to) {
          // killed (hang / crash / OOM): skip the input it was on and carry on
          last++;
          lastAt = performance.now();
          start(last + 1);
        } else resolve();
      });
    };
    start(from);
  });
}

const per = Math.ceil(inputs / nWorkers);
await Promise.all(Array.from({ length: nWorkers }, (_, w) => runRange(w * per, Math.min(inputs, (w + 1) * per), w)));
for (let w = 0; w < nWorkers; w++)
  await rm(join(tmpdir(), `chaos-fuzz-${process.pid}-${w}`), { recursive: true, force: true });
const secs = (performance.now() - t0) / 1000;
const seen = new Map<string, FuzzResult>();
for (const u of untyped)
  if (!seen.has(`${u.error}:${u.message?.split('\n')[1]}`)) seen.set(`${u.error}:${u.message?.split('\n')[1]}`, u);
for (const u of seen.values())
  process.stdout.write(`UNTYPED ${u.error} on ${u.fixture} (${u.mutation}, input ${u.i}):\n${u.message}\n\n`);
const top = [...byError].sort((a, b) => b[1] - a[1]).slice(0, 8);
summary('fuzz', counts.untyped === 0 && counts.hangs === 0 && counts.oom === 0, [
  [
    'inputs',
    `${done} in ${secs.toFixed(0)} s (${nWorkers} workers; ${fixtures.length} fixtures, 10 mutators, 30% stacked)`,
  ],
  ['by input kind', [...byFixtureKind].map(([k, v]) => `${k} ${v}`).join(', ')],
  ['accepted (mutation left a valid file)', counts.accepted],
  ['typed errors (CheckpointIoError)', counts.typed],
  ['untyped errors', `${counts.untyped}${seen.size ? ` (${seen.size} distinct sites, listed above)` : ''}`],
  [`hangs (> ${timeoutMs} ms per input)`, `${counts.hangs}${hangs.length ? `: ${hangs.slice(0, 3).join('; ')}` : ''}`],
  [`worker heap over ${HEAP_LIMIT_MB} MiB`, counts.oom],
  ['peak process RSS', `${(maxRss / 2 ** 20).toFixed(0)} MiB`],
  ['most frequent errors', top.map(([k, v]) => `${k} ${v}`).join(', ')],
]);
