// The synthetic task needs the image, the state AND the prompt: a policy that reads the blocks off the
// image matches the demonstrations; policies blind to the image, or to the prompt, cannot.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeRobotDataset } from './dataset.js';
import { generateLiberoDataset } from './generator.js';
import type { RgbImage } from './png.js';
import { SIM_TASKS, expertAction, type SimScene } from './sim-task.js';
import { tempDir } from '../test-support/helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let train: LeRobotDataset;
let test: LeRobotDataset;
beforeAll(async () => {
  tmp = await tempDir('learn');
  const root = join(tmp.dir, 'd');
  await generateLiberoDataset(root, { episodes: 24, heldOut: 8, steps: 40, imageSize: 32, seed: 3 });
  train = await LeRobotDataset.open(root, { episodes: 'train' });
  test = await LeRobotDataset.open(root, { episodes: 'test' });
});
afterAll(() => tmp.cleanup());

/** Centroid of pixels of one exact colour, in workspace coordinates. */
function locate(img: RgbImage, rgb: [number, number, number]): [number, number] {
  let sx = 0;
  let sy = 0;
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const o = (y * img.width + x) * 3;
      if (img.data[o] === rgb[0] && img.data[o + 1] === rgb[1] && img.data[o + 2] === rgb[2]) {
        sx += x;
        sy += y;
        n++;
      }
    }
  }
  if (n === 0) return [0, 0];
  return [(sx / n / (img.width - 1)) * 2 - 1, (sy / n / (img.height - 1)) * 2 - 1];
}

function mse(a: ArrayLike<number>, b: ArrayLike<number>, dims = a.length): number {
  let s = 0;
  for (let i = 0; i < dims; i++) s += (a[i]! - b[i]!) ** 2;
  return s / dims;
}

/** Ridge least squares: rows of x → rows of y. */
function fit(xs: number[][], ys: number[][]): number[][] {
  const p = xs[0]!.length;
  const q = ys[0]!.length;
  const a = Array.from({ length: p }, (_, i) => Array.from({ length: p + q }, (_, j) => (i === j ? 1e-6 : 0)));
  xs.forEach((x, r) => {
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) a[i]![j]! += x[i]! * x[j]!;
      for (let k = 0; k < q; k++) a[i]![p + k]! += x[i]! * ys[r]![k]!;
    }
  });
  for (let c = 0; c < p; c++) {
    let piv = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(a[r]![c]!) > Math.abs(a[piv]![c]!)) piv = r;
    [a[c], a[piv]] = [a[piv]!, a[c]!];
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = a[r]![c]! / a[c]![c]!;
      for (let j = c; j < p + q; j++) a[r]![j]! -= f * a[c]![j]!;
    }
  }
  return Array.from({ length: p }, (_, i) => Array.from({ length: q }, (_, k) => a[i]![p + k]! / a[i]![i]!));
}

function features(state: Float32Array, taskIndex: number): number[] {
  return [...state, ...SIM_TASKS.map((_, i) => (i === taskIndex ? 1 : 0)), 1];
}

describe('the synthetic LIBERO task', () => {
  it('reading the blocks off the image + state + prompt reproduces the actions; dropping image or prompt does not', async () => {
    const xs: number[][] = [];
    const ys: number[][] = [];
    for (let p = 0; p < train.length; p++) {
      const f = await train.frame(p);
      xs.push(features(f.values['state']!, f.taskIndex));
      ys.push(Array.from(f.values['actions']!));
    }
    const w = fit(xs, ys);
    let oracle = 0;
    let blind = 0;
    let wrongPrompt = 0;
    let noState = 0;
    for (let p = 0; p < test.length; p++) {
      const f = await test.frame(p, { images: ['image'] });
      const img = f.images['image']!;
      const state = f.values['state']!;
      const truth = f.values['actions']!;
      const scene: SimScene = {
        red: locate(img, [210, 40, 40]),
        blue: locate(img, [40, 70, 215]),
        taskIndex: f.taskIndex,
      };
      oracle += mse(expertAction(scene, state), truth);
      const swapped = f.taskIndex ^ 1; // red <-> blue
      wrongPrompt += mse(expertAction({ ...scene, taskIndex: swapped }, state), truth);
      noState += mse(expertAction(scene, new Float32Array(8)), truth);
      const x = features(state, f.taskIndex);
      const pred = w[0]!.map((_, k) => x.reduce((s, xi, i) => s + xi * w[i]![k]!, 0));
      blind += mse(pred, truth);
    }
    const n = test.length;
    [oracle, blind, wrongPrompt, noState] = [oracle / n, blind / n, wrongPrompt / n, noState / n];
    expect(oracle).toBeLessThan(0.01);
    expect(blind).toBeGreaterThan(10 * oracle);
    expect(wrongPrompt).toBeGreaterThan(10 * oracle);
    expect(noState).toBeGreaterThan(10 * oracle);
  });

  it('"pick up" closes the gripper at the block, "touch" never does', async () => {
    let closedPick = 0;
    let closedTouch = 0;
    for (let p = 0; p < train.length; p++) {
      const f = await train.frame(p);
      const closed = f.values['actions']![6]! > 0;
      if (f.task.startsWith('pick') && closed) closedPick++;
      if (f.task.startsWith('touch') && closed) closedTouch++;
    }
    expect(closedPick).toBeGreaterThan(50);
    expect(closedTouch).toBe(0);
  });
});
