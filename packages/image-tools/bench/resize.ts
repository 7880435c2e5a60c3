// pnpm bench — ms per camera frame for resizeWithPad (what vla-serve pays per image).
import { resizeWithPad } from '../src/index.js';

function frame(h: number, w: number): Uint8Array {
  const d = new Uint8Array(h * w * 3);
  for (let i = 0; i < d.length; i++) d[i] = (i * 2654435761) >>> 24;
  return d;
}

const cases: [string, number, number, number, number][] = [
  ['480×640 → 224×224', 480, 640, 224, 224],
  ['256×256 → 224×224', 256, 256, 224, 224],
  ['720×1280 → 224×224', 720, 1280, 224, 224],
  ['96×128 → 224×224 (up)', 96, 128, 224, 224],
];
for (const [name, h, w, H, W] of cases) {
  const data = frame(h, w);
  const f = { data, height: h, width: w, channels: 3 };
  for (let i = 0; i < 20; i++) resizeWithPad(f, H, W); // warm-up
  const n = 200;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) resizeWithPad(f, H, W);
  const ms = (performance.now() - t0) / n;
  const c = process.cpuUsage(c0);
  const cpuMs = (c.user + c.system) / 1000 / n;
  console.log(`${name.padEnd(26)} ${ms.toFixed(2)} ms/frame wall, ${cpuMs.toFixed(2)} ms CPU`);
}
