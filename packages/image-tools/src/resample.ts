// Pillow's BILINEAR resampling for 8-bit images, ported from libImaging/Resample.c (Pillow 9.x–11.x):
// precompute_coeffs (filter support scaled by the downscale factor = antialiasing), coefficients
// normalised to fixed point with PRECISION_BITS = 32 - 8 - 2, a horizontal pass over only the
// source rows the vertical pass will read, then the vertical pass, each rounding with
// 1 << (PRECISION_BITS - 1) and clipping to 0..255 (clip8). Byte-identical to Image.resize(...,
// resample=Image.BILINEAR) for modes L and RGB (checked against Debian's python3-pil).

const PRECISION_BITS = 32 - 8 - 2;
const ONE = 2 ** PRECISION_BITS;
const HALF = 2 ** (PRECISION_BITS - 1);
const BILINEAR_SUPPORT = 1.0;

function bilinear(x: number): number {
  const a = x < 0 ? -x : x;
  return a < 1.0 ? 1.0 - a : 0.0;
}

interface Coeffs {
  /** Coefficients per output index, ksize each, already in fixed point. */
  readonly kk: Int32Array;
  /** [xmin, count] per output index. */
  readonly bounds: Int32Array;
  readonly ksize: number;
}

/** Pillow's precompute_coeffs followed by normalize_coeffs_8bpc. `inSize` → `outSize` over box [0, inSize). */
function precomputeCoeffs(inSize: number, outSize: number): Coeffs {
  const in0 = 0;
  const in1 = inSize; // Pillow passes the box as float; integer sizes < 2^24 are exact
  const scale = (in1 - in0) / outSize;
  const filterscale = Math.max(scale, 1.0);
  const support = BILINEAR_SUPPORT * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const pre = new Float64Array(outSize * ksize);
  const bounds = new Int32Array(outSize * 2);
  for (let xx = 0; xx < outSize; xx++) {
    const center = in0 + (xx + 0.5) * scale;
    let ww = 0.0;
    const ss = 1.0 / filterscale;
    let xmin = Math.trunc(center - support + 0.5); // C (int) cast truncates toward zero
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const base = xx * ksize;
    for (let x = 0; x < xmax; x++) {
      const w = bilinear((x + xmin - center + 0.5) * ss);
      pre[base + x] = w;
      ww += w;
    }
    if (ww !== 0.0) for (let x = 0; x < xmax; x++) pre[base + x] = (pre[base + x] as number) / ww;
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  const kk = new Int32Array(outSize * ksize);
  for (let i = 0; i < kk.length; i++) {
    const v = pre[i] as number;
    kk[i] = v < 0 ? Math.trunc(-0.5 + v * ONE) : Math.trunc(0.5 + v * ONE);
  }
  return { kk, bounds, ksize };
}

/**
 * clip8: C's `in >> PRECISION_BITS` on an int, then Pillow's lookup table (clamp to 0..255).
 * Bilinear sums stay far below 2^31 (255 · 2^22 plus rounding), so int32 `>>` is exact.
 */
function clip8(ss: number): number {
  const v = ss >> PRECISION_BITS;
  return Math.min(255, Math.max(0, v));
}

/**
 * Resizes an 8-bit HWC image with `channels` interleaved channels (1 = Pillow mode L,
 * 3 = mode RGB) exactly as Pillow's `Image.resize((outW, outH), Image.BILINEAR)`.
 */
export function resizeBilinearPillow(
  src: Uint8Array,
  inH: number,
  inW: number,
  channels: number,
  outH: number,
  outW: number,
): Uint8Array {
  if (inH === outH && inW === outW) return src.slice();
  const needHorizontal = outW !== inW;
  const needVertical = outH !== inH;
  const vert = precomputeCoeffs(inH, outH);
  const yFirst = vert.bounds[0] as number;
  const yLast = (vert.bounds[outH * 2 - 2] as number) + (vert.bounds[outH * 2 - 1] as number);

  let img = src;
  let imgW = inW;
  let vbounds = vert.bounds;
  if (needHorizontal) {
    const hor = precomputeCoeffs(inW, outW);
    vbounds = vert.bounds.slice();
    for (let i = 0; i < outH; i++) vbounds[i * 2] = (vbounds[i * 2] as number) - yFirst;
    const rows = yLast - yFirst;
    const tmp = new Uint8Array(rows * outW * channels);
    const { kk, bounds, ksize } = hor;
    for (let yy = 0; yy < rows; yy++) {
      const rowIn = (yy + yFirst) * inW * channels;
      const rowOut = yy * outW * channels;
      for (let xx = 0; xx < outW; xx++) {
        const xmin = bounds[xx * 2] as number;
        const xmax = bounds[xx * 2 + 1] as number;
        const kb = xx * ksize;
        for (let c = 0; c < channels; c++) {
          let ss = HALF;
          let p = rowIn + xmin * channels + c;
          for (let x = 0; x < xmax; x++, p += channels) ss += (src[p] as number) * (kk[kb + x] as number);
          tmp[rowOut + xx * channels + c] = clip8(ss);
        }
      }
    }
    img = tmp;
    imgW = outW;
  }
  if (!needVertical) return img === src ? src.slice() : img;
  const out = new Uint8Array(outH * imgW * channels);
  const { kk, ksize } = vert;
  const rowLen = imgW * channels;
  for (let yy = 0; yy < outH; yy++) {
    const ymin = vbounds[yy * 2] as number;
    const ymax = vbounds[yy * 2 + 1] as number;
    const kb = yy * ksize;
    for (let i = 0; i < rowLen; i++) {
      let ss = HALF;
      let p = ymin * rowLen + i;
      for (let y = 0; y < ymax; y++, p += rowLen) ss += (img[p] as number) * (kk[kb + y] as number);
      out[yy * rowLen + i] = clip8(ss);
    }
  }
  return out;
}
