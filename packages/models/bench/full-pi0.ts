// A full-size pi0 with streamed base weights: load time, time per action chunk, peak RSS.
//
// The work runs in a child process so that its peak RSS (process.resourceUsage().maxRSS) is the
// model's, not the parent's; the parent prints one JSON line with the figures.
//
// Usage (from packages/models):
//   npx tsx scripts/gen-full-pi0.ts /tmp/pi0-full.safetensors        # ~7 GB, once
//   npx tsx bench/run.ts full-pi0.ts /tmp/pi0-full.safetensors [--config pi0] [--steps 10]
//       [--chunks 1] [--cameras 3] [--tokens 48] [--batch 1]
// --steps: Euler steps per chunk (openpi: 10); --cameras: cameras fed (the model is the same; fewer
// cameras = fewer SigLIP passes and a shorter prefix); --tokens: prompt length (max_token_len).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { formatBytes, getPi0Config } from '@vla-lora/gemma-config';
import { initBackend } from '@vla-lora/tfjs-backend';
import { openStreamedPi0, SeededRandom } from '../src/index.js';
import { randomObservation } from './random-inputs.js';
import { commandLine } from './args.js';

const args = process.argv.slice(2);
const { flag, positional: file } = commandLine(args);
if (file === undefined) {
  console.error('usage: bench/run.ts full-pi0.ts MODEL.safetensors [--config pi0] [--steps 10] [--chunks 1]');
  process.exit(2);
}

if (!args.includes('--child')) {
  const run = fileURLToPath(new URL('./run.ts', import.meta.url));
  const t0 = performance.now();
  const r = spawnSync('npx', ['tsx', run, 'full-pi0.ts', ...args, '--child'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const out = r.stdout.toString();
  process.stdout.write(out);
  if (r.status !== 0) process.exit(r.status ?? 1);
  const last = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, number>;
  console.log(
    `full pi0 (streamed): load ${last['loadSeconds']} s, first chunk ${last['firstChunkSeconds']} s, ` +
      `${last['chunks']} chunk(s) avg ${last['secondsPerChunk']} s, peak RSS ${formatBytes(last['maxRssBytes']!)} ` +
      `(child, wall ${((performance.now() - t0) / 1000).toFixed(1)} s incl. start-up)`,
  );
  process.exit(0);
}

const info = await initBackend({ backend: process.env['VLA_BACKEND'] ?? 'wasm' });
const base = getPi0Config(flag('config', 'pi0'));
const cameras = Number(flag('cameras', String(base.imageKeys.length)));
const cfg = {
  ...base,
  imageKeys: base.imageKeys.slice(0, cameras),
  maxTokenLen: Number(flag('tokens', String(base.maxTokenLen))),
};
const B = Number(flag('batch', '1'));
const steps = Number(flag('steps', '10'));
const chunks = Number(flag('chunks', '1'));
const progress = (what: string, extra: Record<string, unknown> = {}): void =>
  console.error(JSON.stringify({ what, rssBytes: process.memoryUsage().rss, ...extra }));

const t0 = performance.now();
const s = openStreamedPi0(file, cfg, { batchSize: B });
const loadSeconds = (performance.now() - t0) / 1000;
progress('loaded', { seconds: loadSeconds, report: { ...s.report, bill: undefined } });

const rng = new SeededRandom(2);
const obs = randomObservation(cfg, B, rng);
const times: number[] = [];
let finite = true;
let shape: number[] = [];
for (let c = 0; c < chunks; c++) {
  const c0 = performance.now();
  const actions = s.policy.sampleActions(obs, rng, { numSteps: steps });
  const values = (await actions.data()) as Float32Array;
  times.push((performance.now() - c0) / 1000);
  shape = actions.shape;
  finite &&= values.every((v) => Number.isFinite(v));
  actions.dispose();
  progress('chunk', { seconds: times.at(-1), finite });
}
const mem = tf.memory();
s.close();
if (!finite) {
  console.error('non-finite actions');
  process.exit(1);
}
console.log(
  JSON.stringify({
    backend: info.name,
    config: cfg.name,
    cameras,
    tokens: cfg.maxTokenLen,
    batch: B,
    eulerSteps: steps,
    actionShape: shape,
    finite,
    streamedParams: s.report.streamedParams,
    residentParams: s.report.residentParams,
    largestBlockBytes: s.report.largestBlockBytes,
    peakLiveBlockBytes: s.file.peakLiveBytes,
    fileBytesRead: s.file.bytesRead,
    backendBytesAfter: mem.numBytes,
    loadSeconds: Number(loadSeconds.toFixed(2)),
    chunks,
    firstChunkSeconds: Number(times[0]!.toFixed(1)),
    secondsPerChunk: Number((times.reduce((a, b) => a + b, 0) / times.length).toFixed(1)),
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
  }),
);
