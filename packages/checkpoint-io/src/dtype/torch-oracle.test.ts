// Bit-exact agreement with torch's own float32 -> bfloat16 / float16 rounding on 16,017 values
// (random bit patterns, values around the f16 range and subnormals, ties, NaN/Inf), from
// test-data/torch-rounding.safetensors made by scripts/make-rounding-oracle.py with torch 1.13.
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SafetensorsFile } from '../safetensors/reader.js';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';

const ORACLE = fileURLToPath(new URL('../../test-data/torch-rounding.safetensors', import.meta.url));

describe('agreement with torch', () => {
  it('f32ToBf16 / f32ToF16 equal torch .bfloat16() / .half() bit for bit, and widening is exact', async () => {
    const f = await SafetensorsFile.open(ORACLE);
    const x = await f.readFloat32('f32');
    const bf = new Uint16Array((await f.read('bf16')).bytes.buffer);
    const h = new Uint16Array((await f.read('f16')).bytes.buffer);
    await f.close();
    expect(x.length).toBe(16017);
    const ours = { bf: f32ToBf16(x), h: f32ToF16(x) };
    const isNaN16 = (v: number, expMask: number, mantMask: number): boolean =>
      (v & expMask) === expMask && (v & mantMask) !== 0;
    let mismatches = 0;
    for (let i = 0; i < x.length; i++) {
      if (Number.isNaN(x[i])) {
        // torch's NaN payloads vary by code path; both must still be NaN
        if (!isNaN16(ours.bf[i]!, 0x7f80, 0x7f) || !isNaN16(ours.h[i]!, 0x7c00, 0x3ff)) mismatches++;
        continue;
      }
      if (ours.bf[i] !== bf[i] || ours.h[i] !== h[i]) mismatches++;
    }
    expect(mismatches).toBe(0);
    const wideBf = bf16ToF32(bf);
    const wideH = f16ToF32(h);
    for (let i = 0; i < x.length; i++) {
      if (!isNaN16(bf[i]!, 0x7f80, 0x7f)) expect(new Uint32Array(wideBf.buffer)[i]).toBe((bf[i]! << 16) >>> 0);
      if (!isNaN16(h[i]!, 0x7c00, 0x3ff)) expect(Math.fround(wideH[i]!)).toBe(wideH[i]);
    }
  });
});
