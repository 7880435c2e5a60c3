// Data-side throughput: generating the synthetic dataset, opening it, computing norm stats, and
// LIBERO samples/s (2 PNG decodes + chunk + normalise + pad each). Run: pnpm bench (or npx tsx bench/data.ts).
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchSampler, LeRobotDataset, LiberoView, computeNormStats, generateLiberoDataset } from '../src/index.js';

const root = join(tmpdir(), `vla-lerobot-bench-${process.pid}`);
const time = async <T>(f: () => Promise<T> | T): Promise<[T, number, number]> => {
  const t = performance.now();
  const c = process.cpuUsage();
  const r = await f();
  const cu = process.cpuUsage(c);
  return [r, (performance.now() - t) / 1000, (cu.user + cu.system) / 1e6];
};
try {
  for (const imageSize of [32, 48]) {
    const [, genS, genCpu] = await time(() =>
      generateLiberoDataset(root, { episodes: 50, heldOut: 10, steps: 40, imageSize, seed: 0, overwrite: true }),
    );
    const [train, openS] = await time(() => LeRobotDataset.open(root, { episodes: 'train' }));
    const [stats, statsS] = await time(() => computeNormStats(train, { actionHorizon: 50 }));
    const view = new LiberoView(train, { actionHorizon: 50, normStats: stats });
    const sampler = new BatchSampler({ size: view.length, batchSize: 32, seed: 0 });
    const batches = 40;
    const [, sampleS] = await time(async () => {
      for (let i = 0; i < batches; i++) await view.batch(sampler.next());
    });
    console.log(
      JSON.stringify({
        imageSize,
        episodes: 60,
        frames: 2400,
        generate_s: +genS.toFixed(2),
        generate_cpu_s: +genCpu.toFixed(2),
        open_train_s: +openS.toFixed(2),
        norm_stats_s: +statsS.toFixed(2),
        samples_per_s: Math.round((batches * 32) / sampleS),
      }),
    );
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
