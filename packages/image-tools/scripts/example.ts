// npx tsx scripts/example.ts — a 480×640 RGB frame to pi0's 224×224, as openpi-client does it.
import { resizeWithPad } from '../src/index.js';

const height = 480;
const width = 640;
const data = new Uint8Array(height * width * 3).map((_, i) => i % 251);
const out = resizeWithPad({ data, height, width, channels: 3 }, 224, 224);
console.log(out.height, out.width, out.channels); // 224 224 3: 168 rows of image, 28 black rows above and below
console.log(out.data.subarray(0, 3), out.data.subarray(112 * 224 * 3, 112 * 224 * 3 + 3));
