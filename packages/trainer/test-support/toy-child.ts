// Child process for the signal tests: trains the toy model with JSON-line output.
//   tsx toy-child.ts <runDir> <totalSteps> <saveEvery> [--resume | --prepare] [--pause-at-save STEP --marker FILE] [--step-delay MS]
// --prepare: go through prepareRunDir as the CLI does (lock; resume if the run dir exists, which
// restarts a run that has no checkpoint yet), printing its warnings as JSON lines.
// --pause-at-save: inside the save of STEP (all files written, nothing renamed yet) write FILE and
// hang, so that the parent can SIGKILL mid-save.
import { existsSync, writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { loadCheckpoint } from '@vla-lora/checkpoint-io';
import { initBackend } from '@vla-lora/tfjs-backend';
import { createLogger } from '../src/log/index.js';
import { trainLoop } from '../src/loop/index.js';
import { createLoopOptimizer } from '../src/optim-adapter.js';
import { warmupCosine } from '../src/optim/index.js';
import { prepareRunDir, runPath } from '../src/run/index.js';
import { buildToy, ToyData, TOY_ADAM, TOY_ADAPTER_CONFIG, TOY_CONFIG, TOY_SCHED } from './toy.js';

const [runDir, total, every, ...rest] = process.argv.slice(2);
const flag = (name: string) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const pauseAt = flag('--pause-at-save');
const marker = flag('--marker');
const delay = Number(flag('--step-delay') ?? 0);
const sched = TOY_SCHED;
const config = TOY_CONFIG;

await initBackend({ backend: 'cpu' });
let prepared: Awaited<ReturnType<typeof prepareRunDir>> | null = null;
if (rest.includes('--prepare')) {
  prepared = await prepareRunDir(runDir as string, { resume: existsSync(runDir as string), overwrite: false, config });
  for (const w of prepared.warnings) process.stdout.write(`${JSON.stringify({ event: 'warning', message: w })}\n`);
}
const model = buildToy(1);
const data = new ToyData(4);
const baseNext = data.next.bind(data);
if (delay > 0) {
  data.next = () => {
    const until = Date.now() + delay;
    while (Date.now() < until);
    return baseNext();
  };
}
let saveStep = 0;
const result = await trainLoop({
  tf,
  runDir: runDir as string,
  params: model.params,
  lossFn: model.lossFn,
  data,
  optimizer: createLoopOptimizer(model.params, TOY_ADAM),
  lrAt: (s) => warmupCosine(s, sched),
  scheduler: { name: 'warmup_cosine', ...sched },
  seed: 11,
  totalSteps: Number(total),
  saveEvery: Number(every),
  config,
  adapterConfig: TOY_ADAPTER_CONFIG as never,
  logger: createLogger({ mode: 'jsonl' }),
  ...(rest.includes('--resume')
    ? { resumeFrom: await loadCheckpoint(runPath(runDir as string, 'checkpoints'), { config }) }
    : prepared?.resumeFrom
      ? { resumeFrom: prepared.resumeFrom }
      : {}),
  hooks: {
    beforeCheckpointCommit: async (tmp) => {
      saveStep++;
      if (pauseAt !== undefined && tmp.includes(`step-${String(pauseAt).padStart(6, '0')}`) && marker) {
        writeFileSync(marker, tmp);
        await new Promise(() => setInterval(() => undefined, 1000));
      }
    },
  },
});
process.stdout.write(
  `${JSON.stringify({ event: 'done', step: result.step, stopped_by: result.stoppedBy, saves: saveStep })}\n`,
);
if (result.stoppedBy !== 'completed') process.exit(result.stoppedBy === 'SIGINT' ? 130 : 143);
