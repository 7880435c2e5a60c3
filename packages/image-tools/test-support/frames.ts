// The deterministic test frames of fixtures/image-tools/make.py (same 32-bit hash, same gradient),
// so only Pillow's outputs need to be stored. Test support: not shipped.
export function frameByte(i: number, j: number, c: number, seed: number): number {
  let v = (Math.imul(i, 73856093) ^ Math.imul(j, 19349663) ^ Math.imul(c + 1, 83492791) ^ seed) >>> 0;
  v = Math.imul(v ^ (v >>> 15), 2246822507) >>> 0;
  v = (v ^ (v >>> 13)) >>> 0;
  v = Math.imul(v, 3266489909) >>> 0;
  v = (v ^ (v >>> 16)) >>> 0;
  return v & 255;
}

/** uint8 HWC frame (c = 0: a 2-D grayscale frame, returned with 1 channel). */
export function makeFrame(h: number, w: number, c: number, seed: number, smooth: boolean): Uint8Array {
  const cc = Math.max(c, 1);
  const out = new Uint8Array(h * w * cc);
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let k = 0; k < cc; k++) {
        let v = frameByte(i, j, k, seed);
        if (smooth) {
          const base = Math.floor(
            (Math.floor((i * 255) / Math.max(h - 1, 1)) + Math.floor((j * 255) / Math.max(w - 1, 1)) + k * 60) / 2,
          );
          v = Math.min(255, Math.max(0, base + (v & 15) - 8));
        }
        out[(i * w + j) * cc + k] = v;
      }
  return out;
}
