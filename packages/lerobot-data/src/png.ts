// PNG in and out. Images are HWC uint8 RGB, LeRobot's "image" dtype layout.
// Decoding goes through pngjs (every PNG variant). Encoding writes the one variant we produce
// (8-bit RGB, "Sub" row filter, zlib) directly: pngjs's encoder spends ~1 ms per small image in
// zlib stream setup, which made generating a few thousand 32x32 frames take many seconds.
import { deflateSync } from 'node:zlib';
import { PNG } from 'pngjs';

export interface RgbImage {
  height: number;
  width: number;
  /** HWC, RGB, uint8; length height*width*3. */
  data: Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array, start: number, end: number): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out, 4, 8 + data.length));
  return out;
}

/** Encodes an HWC RGB image as PNG bytes (8-bit truecolour, Sub filter). */
export function encodePng(img: RgbImage): Uint8Array {
  const { width: w, height: h, data } = img;
  if (data.length !== w * h * 3) throw new RangeError(`encodePng: ${data.length} bytes is not ${h}x${w}x3`);
  const stride = w * 3;
  const raw = new Uint8Array(h * (stride + 1));
  for (let y = 0; y < h; y++) {
    const o = y * (stride + 1);
    const s = y * stride;
    raw[o] = 1; // Sub: each byte minus the byte one pixel to the left
    for (let x = 0; x < stride; x++) raw[o + 1 + x] = (data[s + x]! - (x >= 3 ? data[s + x - 3]! : 0)) & 0xff;
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, w);
  dv.setUint32(4, h);
  ihdr.set([8, 2, 0, 0, 0], 8); // bit depth 8, colour type 2 (RGB), deflate, adaptive filtering, no interlace
  const idat = deflateSync(raw, { level: 6, chunkSize: 4096 });
  const parts = [
    Uint8Array.from(SIGNATURE),
    chunk('IHDR', ihdr),
    chunk('IDAT', new Uint8Array(idat.buffer, idat.byteOffset, idat.byteLength)),
    chunk('IEND', new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Decodes PNG bytes to HWC RGB (alpha dropped, grey expanded). Throws pngjs's error on bad bytes. */
export function decodePng(bytes: Uint8Array): RgbImage {
  const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  const { width, height, data } = png; // pngjs always yields RGBA
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    out[i * 3] = data[j]!;
    out[i * 3 + 1] = data[j + 1]!;
    out[i * 3 + 2] = data[j + 2]!;
  }
  return { height, width, data: out };
}
