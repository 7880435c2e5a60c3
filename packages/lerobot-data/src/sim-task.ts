// The simulated LIBERO-like task behind the synthetic dataset. A table with a red and a blue block
// at random places; an end effector (state: xyz, axis-angle, 2 finger joints) must reach the block
// the prompt names, and close the gripper there for "pick up" but keep it open for "touch".
// The action (7-d: dxyz, drot, gripper) therefore depends on the image (where the blocks are: the
// state does not say), on the state (where the effector is) and on the prompt (which block, gripper).
import type { RgbImage } from './png.js';
import type { Rng } from './rng.js';

export const SIM_TASKS = [
  'pick up the red block',
  'pick up the blue block',
  'touch the red block',
  'touch the blue block',
] as const;

export interface SimScene {
  /** Block positions on the table, x/y in [-1, 1]. */
  red: [number, number];
  blue: [number, number];
  /** Index into SIM_TASKS. */
  taskIndex: number;
}

/** LIBERO layout: [x, y, z, ax, ay, az, finger_left, finger_right]. */
export type SimState = Float32Array;

export const FINGER_OPEN = 0.04;
const MOVE_SCALE = 0.15; // workspace units per unit action per step
const GAIN = 1.5;
const GRASP_RADIUS = 0.15;
const TARGET_Z = 0.05;

export function randomScene(rng: Rng): SimScene {
  const red: [number, number] = [rng.range(-0.8, 0.8), rng.range(-0.8, 0.8)];
  let blue: [number, number];
  do blue = [rng.range(-0.8, 0.8), rng.range(-0.8, 0.8)];
  while (Math.hypot(blue[0] - red[0], blue[1] - red[1]) < 0.6);
  return { red, blue, taskIndex: rng.int(SIM_TASKS.length) };
}

export function initialState(rng: Rng): SimState {
  return Float32Array.from([
    rng.range(-0.8, 0.8),
    rng.range(-0.8, 0.8),
    rng.range(0.5, 0.9),
    rng.range(-0.3, 0.3),
    rng.range(-0.3, 0.3),
    rng.range(-0.3, 0.3),
    FINGER_OPEN,
    -FINGER_OPEN,
  ]);
}

const clip = (v: number): number => Math.max(-1, Math.min(1, v));

/** The target block of the scene's task and whether the task closes the gripper. */
export function taskTarget(scene: SimScene): { target: [number, number]; grasp: boolean } {
  const task = SIM_TASKS[scene.taskIndex]!;
  return { target: task.includes('red') ? scene.red : scene.blue, grasp: task.startsWith('pick') };
}

/** The demonstrator's action (noise-free). */
export function expertAction(scene: SimScene, s: SimState): Float32Array {
  const { target, grasp } = taskTarget(scene);
  const a = new Float32Array(7);
  a[0] = clip(GAIN * (target[0] - s[0]!));
  a[1] = clip(GAIN * (target[1] - s[1]!));
  a[2] = clip(GAIN * (TARGET_Z - s[2]!));
  for (let i = 0; i < 3; i++) a[3 + i] = clip(-2 * s[3 + i]!);
  const near = Math.hypot(target[0] - s[0]!, target[1] - s[1]!) < GRASP_RADIUS && s[2]! < TARGET_Z + 0.1;
  a[6] = grasp && near ? 1 : -1;
  return a;
}

/** Applies an action: effector moves, rotation relaxes, fingers follow the gripper command. */
export function stepState(s: SimState, a: Float32Array): SimState {
  const n = Float32Array.from(s);
  for (let i = 0; i < 6; i++) n[i] = s[i]! + MOVE_SCALE * clip(a[i]!);
  n[2] = Math.max(0, Math.min(1, n[2]!));
  const fingerTarget = a[6]! > 0 ? 0 : FINGER_OPEN;
  const move = (cur: number, tgt: number): number => cur + Math.max(-0.01, Math.min(0.01, tgt - cur));
  n[6] = move(s[6]!, fingerTarget);
  n[7] = move(s[7]!, -fingerTarget);
  return n;
}

const TABLE: [number, number, number] = [196, 186, 164];
const RED: [number, number, number] = [210, 40, 40];
const BLUE: [number, number, number] = [40, 70, 215];
const EFFECTOR: [number, number, number] = [30, 160, 60];

function fill(img: RgbImage, rgb: [number, number, number]): void {
  const d = img.data;
  for (let i = 0; i < d.length; i += 3) {
    d[i] = rgb[0];
    d[i + 1] = rgb[1];
    d[i + 2] = rgb[2];
  }
}

function square(img: RgbImage, cx: number, cy: number, half: number, rgb: [number, number, number]): void {
  const x0 = Math.max(0, Math.round(cx - half));
  const x1 = Math.min(img.width - 1, Math.round(cx + half));
  const y0 = Math.max(0, Math.round(cy - half));
  const y1 = Math.min(img.height - 1, Math.round(cy + half));
  const d = img.data;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const o = (y * img.width + x) * 3;
      d[o] = rgb[0];
      d[o + 1] = rgb[1];
      d[o + 2] = rgb[2];
    }
  }
}

/** Third-person view from above: both blocks and the effector (its size shows its height). */
export function renderMain(scene: SimScene, s: SimState, size: number): RgbImage {
  const img: RgbImage = { height: size, width: size, data: new Uint8Array(size * size * 3) };
  fill(img, TABLE);
  const px = (v: number): number => ((v + 1) / 2) * (size - 1);
  const half = Math.max(1, size / 16);
  // the effector first, so that it never hides a block (its position is in the state anyway)
  square(img, px(s[0]!), px(s[1]!), Math.max(0.5, (size / 40) * (1 + s[2]!)), EFFECTOR);
  square(img, px(scene.red[0]), px(scene.red[1]), half, RED);
  square(img, px(scene.blue[0]), px(scene.blue[1]), half, BLUE);
  return img;
}

/** Wrist view centred on the effector: blocks where they are relative to it, fingers at the bottom. */
export function renderWrist(scene: SimScene, s: SimState, size: number): RgbImage {
  const img: RgbImage = { height: size, width: size, data: new Uint8Array(size * size * 3) };
  fill(img, TABLE);
  const zoom = 1 / (0.4 + s[2]!);
  const px = (rel: number): number => (size - 1) / 2 + rel * zoom * (size / 2);
  const half = Math.max(1, (size / 10) * zoom);
  square(img, px(scene.red[0] - s[0]!), px(scene.red[1] - s[1]!), half, RED);
  square(img, px(scene.blue[0] - s[0]!), px(scene.blue[1] - s[1]!), half, BLUE);
  const gap = Math.round(((s[6]! - s[7]!) / (2 * FINGER_OPEN)) * (size / 4));
  const c = Math.floor(size / 2);
  square(img, c - gap - 1, size - 2, 1, [40, 40, 40]);
  square(img, c + gap + 1, size - 2, 1, [40, 40, 40]);
  return img;
}

export interface SimStep {
  state: SimState;
  action: Float32Array;
  image: RgbImage;
  wrist: RgbImage;
}

/** Rolls out the (slightly noisy) demonstrator for `steps` frames. */
export function simulateEpisode(
  rng: Rng,
  steps: number,
  imageSize: number,
  actionNoise = 0.02,
): { scene: SimScene; frames: SimStep[] } {
  const scene = randomScene(rng);
  let s = initialState(rng);
  const frames: SimStep[] = [];
  for (let t = 0; t < steps; t++) {
    const a = expertAction(scene, s);
    for (let i = 0; i < 6; i++) a[i] = clip(a[i]! + actionNoise * rng.normal());
    frames.push({
      state: s,
      action: a,
      image: renderMain(scene, s, imageSize),
      wrist: renderWrist(scene, s, imageSize),
    });
    s = stepState(s, a);
  }
  return { scene, frames };
}
