// Reading files this package did not write: test-support/arrow-rs-fixture (arrow-rs via parquet-wasm,
// FixedSizeList columns as pyarrow/HF write them for LeRobot). Values follow make-fixture.cjs's rules.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LeRobotDataset } from './dataset.js';
import { LiberoView } from './libero.js';

const ROOT = fileURLToPath(new URL('../test-support/arrow-rs-fixture/dataset', import.meta.url));

describe('a LeRobot dataset written by arrow-rs', () => {
  it('reads FixedSizeList state/actions, int64 bookkeeping and PNG struct images exactly', async () => {
    const ds = await LeRobotDataset.open(ROOT);
    expect(ds.length).toBe(10);
    for (let p = 0; p < 10; p++) {
      const ep = Math.floor(p / 5);
      const t = p % 5;
      const f = await ds.frame(p, { images: true });
      expect([f.episodeIndex, f.frameIndex, f.index]).toEqual([ep, t, p]);
      expect(f.timestamp).toBeCloseTo(t / 10, 6);
      expect(f.task).toBe(ep === 0 ? 'pick up the red block' : 'touch the blue block');
      Array.from(f.values['state']!).forEach((v, d) => expect(v).toBeCloseTo(ep + t / 10 + d / 100, 6));
      Array.from(f.values['actions']!).forEach((v, d) => expect(v).toBeCloseTo(-ep - t / 10 - d / 100, 6));
      const img = f.images['image']!;
      expect([img.height, img.width]).toEqual([8, 8]);
      for (const i of [0, 13, 63]) {
        expect(Array.from(img.data.subarray(i * 3, i * 3 + 3))).toEqual([
          (p * 31 + i * 7) & 255,
          (p * 17 + i * 3) & 255,
          (p * 5 + i) & 255,
        ]);
      }
      expect(f.images['wrist_image']!.data[0]).toBe(((100 + p) * 31) & 255);
    }
  });

  it('feeds the LIBERO view (chunks padded at the episode end)', async () => {
    const view = new LiberoView(await LeRobotDataset.open(ROOT), { actionHorizon: 4 });
    const s = await view.sample(3);
    expect(Array.from(s.actionIsPad)).toEqual([0, 0, 1, 1]);
    expect(s.actions[3 * 32]).toBeCloseTo(-0.4, 6);
    expect(s.prompt).toBe('pick up the red block');
  });
});
