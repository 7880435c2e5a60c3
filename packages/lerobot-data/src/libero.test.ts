import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeRobotDataset } from './dataset.js';
import { generateLiberoDataset } from './generator.js';
import { LiberoView } from './libero.js';
import { tempDir } from '../test-support/helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let ds: LeRobotDataset;
beforeAll(async () => {
  tmp = await tempDir('libero');
  const root = join(tmp.dir, 'd');
  await generateLiberoDataset(root, { episodes: 3, heldOut: 1, steps: 10, imageSize: 16, seed: 4 });
  ds = await LeRobotDataset.open(root, { episodes: 'train' });
});
afterAll(() => tmp.cleanup());

describe('LiberoView (openpi LeRobotLiberoDataConfig + LiberoInputs for pi0)', () => {
  it('maps image/wrist_image/state/actions/prompt, pads to 32 and masks the missing right wrist camera', async () => {
    const view = new LiberoView(ds, { actionHorizon: 5 });
    const s = await view.sample(12); // episode 1, frame 2
    const f = await ds.frame(12, { images: true });
    expect(s.episodeIndex).toBe(1);
    expect(s.frameIndex).toBe(2);
    expect(s.prompt).toBe(f.task);
    expect(s.state).toHaveLength(32);
    expect(Array.from(s.state.subarray(0, 8))).toEqual(Array.from(f.values['state']!));
    expect(Array.from(s.state.subarray(8))).toEqual(new Array(24).fill(0));
    expect(s.actions).toHaveLength(5 * 32);
    const ep = ds.episodes()[1]!;
    for (let k = 0; k < 5; k++) {
      expect(Array.from(s.actions.subarray(k * 32, k * 32 + 7))).toEqual(
        Array.from(ep.vectors.get('actions')!.data.subarray((2 + k) * 7, (3 + k) * 7)),
      );
      expect(Array.from(s.actions.subarray(k * 32 + 7, (k + 1) * 32))).toEqual(new Array(25).fill(0));
    }
    expect(Buffer.from(s.images.base_0_rgb.data).equals(Buffer.from(f.images['image']!.data))).toBe(true);
    expect(Buffer.from(s.images.left_wrist_0_rgb.data).equals(Buffer.from(f.images['wrist_image']!.data))).toBe(true);
    expect(s.images.right_wrist_0_rgb.data.every((v) => v === 0)).toBe(true);
    expect(s.imageMask).toEqual({ base_0_rgb: true, left_wrist_0_rgb: true, right_wrist_0_rgb: false });
  });

  it('50-step chunks at the end of an episode repeat the last action and flag padding', async () => {
    const view = new LiberoView(ds); // openpi defaults: horizon 50, 32 dims
    const s = await view.sample(10 + 7); // episode 1, frame 7 of 10
    expect(Array.from(s.actionIsPad.subarray(0, 4))).toEqual([0, 0, 0, 1]);
    expect(s.actionIsPad.subarray(3).every((v) => v === 1)).toBe(true);
    const last = Array.from(
      ds
        .episodes()[1]!
        .vectors.get('actions')!
        .data.subarray(9 * 7, 10 * 7),
    );
    expect(Array.from(s.actions.subarray(49 * 32, 49 * 32 + 7))).toEqual(last);
    expect(Array.from(s.actions.subarray(2 * 32, 2 * 32 + 7))).toEqual(last);
  });

  it('delta actions (first 6 dims relative to the state, gripper absolute), then z-score with the given stats', async () => {
    const stats = {
      state: { mean: [0, 0, 0, 0, 0, 0, 0, 0], std: [2, 2, 2, 2, 2, 2, 2, 2] },
      actions: { mean: [1, 1, 1, 1, 1, 1, 1], std: [1, 1, 1, 1, 1, 1, 1] },
    };
    const plain = new LiberoView(ds, { actionHorizon: 3 });
    const delta = new LiberoView(ds, { actionHorizon: 3, deltaActions: true, normStats: stats });
    const a = await plain.sample(4);
    const b = await delta.sample(4);
    for (let d = 0; d < 8; d++) expect(b.state[d]).toBeCloseTo(a.state[d]! / (2 + 1e-6), 6);
    for (let k = 0; k < 3; k++) {
      for (let d = 0; d < 7; d++) {
        const raw = a.actions[k * 32 + d]!;
        const expected = (d < 6 ? raw - a.state[d]! : raw) - 1;
        expect(b.actions[k * 32 + d]).toBeCloseTo(expected / (1 + 1e-6), 5);
      }
    }
  });

  it('collates a batch into contiguous arrays', async () => {
    const view = new LiberoView(ds, { actionHorizon: 4 });
    const b = await view.batch([0, 5, 29]);
    expect(b.size).toBe(3);
    expect(b.state).toHaveLength(3 * 32);
    expect(b.actions).toHaveLength(3 * 4 * 32);
    expect(b.actionIsPad).toHaveLength(12);
    expect(b.images.base_0_rgb).toHaveLength(3 * 16 * 16 * 3);
    expect(Array.from(b.imageMask.right_wrist_0_rgb)).toEqual([0, 0, 0]);
    expect(Array.from(b.imageMask.base_0_rgb)).toEqual([1, 1, 1]);
    const s = await view.sample(29);
    expect(Array.from(b.actions.subarray(2 * 128, 3 * 128))).toEqual(Array.from(s.actions));
    expect(b.prompts[2]).toBe(s.prompt);
  });
});
