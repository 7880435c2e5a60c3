// The README's example: generate a small LIBERO-format dataset, compute norm stats, read a batch.
// Run: npx tsx scripts/example.ts [dir]
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BatchSampler,
  LeRobotDataset,
  LiberoView,
  computeNormStats,
  generateLiberoDataset,
  writeNormStats,
} from '../src/index.js';

const root = process.argv[2] ?? join(tmpdir(), 'vla-libero-demo');
await generateLiberoDataset(root, { episodes: 50, steps: 40, imageSize: 32, seed: 0, overwrite: true });

const train = await LeRobotDataset.open(root, { episodes: 'train' }); // info.json splits: train 0:50, test 50:60
const stats = computeNormStats(train, { actionHorizon: 50 });
console.log('norm stats ->', await writeNormStats(join(root, 'assets'), stats));

const view = new LiberoView(train, { actionHorizon: 50, modelActionDim: 32, normStats: stats });
const sampler = new BatchSampler({ size: view.length, batchSize: 8, seed: 0 });
const batch = await view.batch(sampler.next());
console.log({
  frames: train.length,
  prompt: batch.prompts[0],
  state: batch.state.length, // 8 × 32
  actions: batch.actions.length, // 8 × 50 × 32
  padded: batch.actionIsPad.reduce((a, b) => a + b, 0),
  image: [batch.size, batch.height, batch.width, 3],
  cursor: sampler.cursor(), // save with the checkpoint; new BatchSampler({ ..., cursor }) resumes the order
});
