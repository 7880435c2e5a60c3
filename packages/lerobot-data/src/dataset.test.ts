import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeRobotDataset } from './dataset.js';
import { InvalidOptionError } from './errors.js';
import { generateLiberoDataset } from './generator.js';
import { tempDir } from '../test-support/helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let root: string;
beforeAll(async () => {
  tmp = await tempDir('ds');
  root = join(tmp.dir, 'd');
  await generateLiberoDataset(root, { episodes: 5, heldOut: 2, steps: 7, imageSize: 8, seed: 8, chunksSize: 3 });
});
afterAll(() => tmp.cleanup());

describe('LeRobotDataset', () => {
  it('views: all episodes, a split, an index list; positions map to episode rows and global indices', async () => {
    const all = await LeRobotDataset.open(root);
    expect(all.length).toBe(49);
    const test = await LeRobotDataset.open(root, { episodes: 'test' });
    expect(test.episodeIndices).toEqual([5, 6]);
    const some = await LeRobotDataset.open(root, { episodes: [4, 1] });
    expect(some.episodeIndices).toEqual([4, 1]);
    const f = await some.frame(7 + 3);
    expect([f.episodeIndex, f.frameIndex, f.index]).toEqual([1, 3, 10]);
    expect(f.timestamp).toBeCloseTo(0.3, 6);
    expect(Array.from(f.values['state']!)).toEqual(Array.from((await all.frame(10)).values['state']!));
    await expect(LeRobotDataset.open(root, { episodes: [7] })).rejects.toBeInstanceOf(InvalidOptionError);
    expect(() => all.locate(49)).toThrow(InvalidOptionError);
  });

  it('images are the same whatever the cache budget (0 bytes re-reads every episode)', async () => {
    const big = await LeRobotDataset.open(root);
    const none = await LeRobotDataset.open(root, { imageCacheBytes: 0 });
    for (const p of [0, 48, 3, 20, 47, 1]) {
      const a = await big.frame(p, { images: true });
      const b = await none.frame(p, { images: true });
      expect(Buffer.from(b.images['image']!.data).equals(Buffer.from(a.images['image']!.data))).toBe(true);
      expect(Buffer.from(b.images['wrist_image']!.data).equals(Buffer.from(a.images['wrist_image']!.data))).toBe(true);
    }
  });

  it('reports episode loading progress', async () => {
    const seen: Array<[number, number]> = [];
    await LeRobotDataset.open(root, { episodes: 'train', onProgress: (d, t) => seen.push([d, t]) });
    expect(seen).toEqual([
      [1, 5],
      [2, 5],
      [3, 5],
      [4, 5],
      [5, 5],
    ]);
  });
});
