import {
  DegenerateResizeError,
  EmptyFrameError,
  FrameShapeError,
  FrameValueRangeError,
  NonFiniteFrameError,
  UnsupportedChannelsError,
} from './errors.js';
import { resizeBilinearPillow } from './resample.js';

export type FrameData = Uint8Array | Uint8ClampedArray | Float32Array | Float64Array;

/** A camera frame: `data` row-major HWC (default) or CHW. Float data is scaled as openpi does: uint8(255·x). */
export interface Frame {
  readonly data: FrameData;
  readonly height: number;
  readonly width: number;
  /** 3 (RGB) or 1 (grayscale). */
  readonly channels: number;
  /** Memory layout of `data`; default 'hwc'. */
  readonly layout?: 'hwc' | 'chw';
}

/** An 8-bit HWC frame. */
export interface Uint8Frame {
  readonly data: Uint8Array;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

function checkDims(what: string, height: number, width: number): void {
  if (!Number.isSafeInteger(height) || !Number.isSafeInteger(width) || height < 0 || width < 0)
    throw new FrameShapeError(`${what} size ${height}×${width} is not a pair of non-negative integers.`);
  if (height === 0 || width === 0) throw new EmptyFrameError(what, height, width);
}

/**
 * openpi's frame parsing (LIBERO policy `_parse_image`): float frames become `(255 * x).astype(uint8)`
 * — float32 products are rounded to float32 first, as numpy does — and CHW frames become HWC.
 * Returns a fresh uint8 HWC frame. NaN/∞, values outside what 255·x can hold as uint8, 0-sized
 * frames, and channel counts other than 1 or 3 are typed errors.
 */
export function toUint8Hwc(frame: Frame): Uint8Frame {
  const { data, height, width, channels } = frame;
  checkDims('Frame', height, width);
  if (channels !== 3 && channels !== 1) throw new UnsupportedChannelsError(channels);
  const n = height * width * channels;
  if (data.length !== n)
    throw new FrameShapeError(
      `Frame data has ${data.length} values but ${height}×${width}×${channels} needs ${n}. Check the shape and layout.`,
    );
  let u8: Uint8Array;
  if (data instanceof Float32Array || data instanceof Float64Array) {
    u8 = new Uint8Array(n);
    const f32 = data instanceof Float32Array;
    for (let i = 0; i < n; i++) {
      const x = data[i] as number;
      if (!Number.isFinite(x)) throw new NonFiniteFrameError(i, x);
      const y = f32 ? Math.fround(255 * x) : 255 * x;
      if (y < 0 || y >= 256) throw new FrameValueRangeError(i, x);
      u8[i] = Math.trunc(y);
    }
  } else {
    u8 = new Uint8Array(n);
    u8.set(data);
  }
  if ((frame.layout ?? 'hwc') === 'chw' && channels > 1) {
    const hwc = new Uint8Array(n);
    const plane = height * width;
    for (let c = 0; c < channels; c++)
      for (let p = 0; p < plane; p++) hwc[p * channels + c] = u8[c * plane + p] as number;
    return { data: hwc, height, width, channels };
  }
  return { data: u8, height, width, channels };
}

/** The size openpi-client's `_resize_with_pad_pil` resizes to before padding. */
export function resizedSize(
  height: number,
  width: number,
  targetHeight: number,
  targetWidth: number,
): { height: number; width: number } {
  const ratio = Math.max(width / targetWidth, height / targetHeight);
  return { height: Math.trunc(height / ratio), width: Math.trunc(width / ratio) };
}

/**
 * openpi-client's `image_tools.resize_with_pad(image, height, width)`: Pillow BILINEAR resize
 * keeping the aspect ratio, then centred on a zero (black) canvas of `height`×`width`.
 * Byte-identical to Pillow. A frame already `height`×`width` comes back unchanged (converted to
 * uint8 HWC if it was float/CHW).
 */
export function resizeWithPad(frame: Frame, height: number, width: number): Uint8Frame {
  checkDims('Target', height, width);
  const img = toUint8Hwc(frame);
  const { channels } = img;
  if (img.height === height && img.width === width) return img;
  const r = resizedSize(img.height, img.width, height, width);
  if (r.height < 1 || r.width < 1)
    throw new DegenerateResizeError(img.height, img.width, height, width, r.height, r.width);
  const resized = resizeBilinearPillow(img.data, img.height, img.width, channels, r.height, r.width);
  const padH = Math.max(0, Math.trunc((height - r.height) / 2));
  const padW = Math.max(0, Math.trunc((width - r.width) / 2));
  const out = new Uint8Array(height * width * channels);
  const rowLen = r.width * channels;
  for (let y = 0; y < r.height; y++)
    out.set(resized.subarray(y * rowLen, (y + 1) * rowLen), ((y + padH) * width + padW) * channels);
  return { data: out, height, width, channels };
}

/**
 * openpi's `_parse_image` shape rule for an array of `shape` [H, W], [H, W, C] or [C, H, W]: a
 * leading dimension of 3 means CHW.
 */
export function frameFromShape(data: FrameData, shape: readonly number[]): Frame {
  if (shape.length === 2) return { data, height: shape[0] as number, width: shape[1] as number, channels: 1 };
  if (shape.length !== 3)
    throw new FrameShapeError(`A frame must be [H, W], [H, W, C] or [C, H, W]; got shape [${shape.join(', ')}].`);
  const [a, b, c] = shape as [number, number, number];
  if (a === 3) return { data, height: b, width: c, channels: 3, layout: 'chw' };
  return { data, height: a, width: b, channels: c };
}
