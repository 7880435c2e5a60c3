import { describe, expect, it } from 'vitest';
import { decodePng, encodePng } from './png.js';
import { Rng } from './rng.js';

describe('PNG', () => {
  it('round-trips random RGB images of odd sizes through pngjs', () => {
    const rng = new Rng(3);
    for (const [h, w] of [
      [1, 1],
      [7, 13],
      [32, 32],
    ] as const) {
      const data = Uint8Array.from({ length: h * w * 3 }, () => rng.int(256));
      const back = decodePng(encodePng({ height: h, width: w, data }));
      expect([back.height, back.width]).toEqual([h, w]);
      expect(Buffer.from(back.data).equals(Buffer.from(data))).toBe(true);
    }
  });
  it('starts with the PNG signature and rejects a wrong byte count', () => {
    const png = encodePng({ height: 2, width: 2, data: new Uint8Array(12) });
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    expect(() => encodePng({ height: 2, width: 2, data: new Uint8Array(11) })).toThrow(RangeError);
  });
  it('throws on bytes that are not a PNG', () => {
    expect(() => decodePng(new TextEncoder().encode('definitely not a png'))).toThrow();
  });
});
