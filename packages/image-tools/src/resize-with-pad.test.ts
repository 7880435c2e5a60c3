import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { makeFrame } from '../test-support/frames.js';
import {
  DegenerateResizeError,
  EmptyFrameError,
  type Frame,
  FrameShapeError,
  FrameValueRangeError,
  frameFromShape,
  NonFiniteFrameError,
  resizeWithPad,
  UnsupportedChannelsError,
} from './index.js';

// Pillow's outputs: fixtures/image-tools/make.py (Debian python3-pil running openpi-client's resize_with_pad).
interface Case {
  name: string;
  h: number;
  w: number;
  c: number;
  seed: number;
  smooth: boolean;
  kind: 'u8' | 'f32' | 'f64' | 'f32chw' | 'u8chw';
  height: number;
  width: number;
  out_shape: number[];
  input_sha256: string;
  sha256: string;
  bytes_b64?: string;
}
const ref = JSON.parse(
  readFileSync(new URL('../../../fixtures/image-tools/reference.json', import.meta.url), 'utf8'),
) as {
  cases: Case[];
};
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function toChw(hwc: Uint8Array, h: number, w: number, c: number): Uint8Array {
  const out = new Uint8Array(hwc.length);
  for (let p = 0; p < h * w; p++) for (let k = 0; k < c; k++) out[k * h * w + p] = hwc[p * c + k] as number;
  return out;
}

function inputFor(c: Case): Frame {
  const channels = Math.max(c.c, 1);
  const u8 = makeFrame(c.h, c.w, c.c, c.seed, c.smooth);
  expect(sha(u8), `${c.name}: generated input equals Python's`).toBe(c.input_sha256);
  if (c.kind === 'u8') return { data: u8, height: c.h, width: c.w, channels };
  if (c.kind === 'u8chw') return frameFromShape(toChw(u8, c.h, c.w, channels), [channels, c.h, c.w]);
  // numpy: frame.astype(float32) / float32(255), or float64
  const f =
    c.kind === 'f64' ? Float64Array.from(u8, (v) => v / 255) : Float32Array.from(u8, (v) => Math.fround(v / 255));
  if (c.kind === 'f32chw') {
    const chw = new Float32Array(f.length);
    const plane = c.h * c.w;
    for (let p = 0; p < plane; p++)
      for (let k = 0; k < channels; k++) chw[k * plane + p] = f[p * channels + k] as number;
    return frameFromShape(chw, [channels, c.h, c.w]);
  }
  return { data: f, height: c.h, width: c.w, channels };
}

describe('resizeWithPad equals openpi-client resize_with_pad on Pillow, byte for byte', () => {
  it('covers down- and up-scaling, odd sizes, identity, grayscale, float and CHW frames', () => {
    expect(ref.cases.length).toBeGreaterThanOrEqual(6);
    const names = ref.cases.map((c) => c.name);
    expect(names).toContain('480x640-to-224');
    expect(names).toContain('1x1-to-224');
    expect(names).toContain('224-identity');
  });
  for (const c of ref.cases) {
    it(c.name, () => {
      const out = resizeWithPad(inputFor(c), c.height, c.width);
      expect([out.height, out.width, out.channels]).toEqual(c.c === 0 ? [...c.out_shape, 1] : c.out_shape);
      if (c.bytes_b64 !== undefined) expect(Buffer.from(out.data).toString('base64')).toBe(c.bytes_b64);
      expect(sha(out.data)).toBe(c.sha256);
    });
  }
});

describe('bad frames are typed errors', () => {
  const rgb = (h: number, w: number) => ({ data: new Uint8Array(h * w * 3), height: h, width: w, channels: 3 });
  it('0-width / 0-height frame or target → EmptyFrameError', () => {
    expect(() => resizeWithPad(rgb(0, 10), 224, 224)).toThrow(EmptyFrameError);
    expect(() => resizeWithPad(rgb(10, 0), 224, 224)).toThrow(EmptyFrameError);
    expect(() => resizeWithPad(rgb(10, 10), 0, 224)).toThrow(EmptyFrameError);
  });
  it('4 channels (RGBA) → UnsupportedChannelsError', () => {
    expect(() => resizeWithPad({ data: new Uint8Array(4 * 4 * 4), height: 4, width: 4, channels: 4 }, 8, 8)).toThrow(
      /Drop the alpha channel/,
    );
    expect(() => resizeWithPad({ data: new Uint8Array(8), height: 2, width: 2, channels: 2 }, 8, 8)).toThrow(
      UnsupportedChannelsError,
    );
  });
  it('NaN / Infinity in a float frame → NonFiniteFrameError; out-of-range floats → FrameValueRangeError', () => {
    const f = new Float32Array(2 * 2 * 3).fill(0.5);
    f[5] = Number.NaN;
    expect(() => resizeWithPad({ data: f, height: 2, width: 2, channels: 3 }, 4, 4)).toThrow(NonFiniteFrameError);
    f[5] = Number.POSITIVE_INFINITY;
    expect(() => resizeWithPad({ data: f, height: 2, width: 2, channels: 3 }, 4, 4)).toThrow(NonFiniteFrameError);
    f[5] = 200; // a 0..255 frame sent as float
    expect(() => resizeWithPad({ data: f, height: 2, width: 2, channels: 3 }, 4, 4)).toThrow(FrameValueRangeError);
    f[5] = -0.01;
    expect(() => resizeWithPad({ data: f, height: 2, width: 2, channels: 3 }, 4, 4)).toThrow(FrameValueRangeError);
  });
  it('wrong data length, bad shapes, and a frame too thin to keep a pixel → typed errors', () => {
    expect(() => resizeWithPad({ data: new Uint8Array(5), height: 2, width: 2, channels: 3 }, 4, 4)).toThrow(
      FrameShapeError,
    );
    expect(() => frameFromShape(new Uint8Array(8), [2, 2, 2, 1])).toThrow(FrameShapeError);
    // Pillow: ValueError("height and width must be > 0") for 1000×3 into 224×224 (width rounds to 0)
    expect(() => resizeWithPad(rgb(1000, 3), 224, 224)).toThrow(DegenerateResizeError);
  });
  it('does not modify or alias the input', () => {
    const input = makeFrame(224, 224, 3, 8, false);
    const copy = input.slice();
    const out = resizeWithPad({ data: input, height: 224, width: 224, channels: 3 }, 224, 224);
    out.data[0] = (out.data[0] as number) ^ 0xff;
    expect(Buffer.compare(input, copy)).toBe(0);
  });
});
