import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16 } from './half.js';
import { f8e4m3ToF32, f8e5m2ToF32 } from './fp8.js';
import { fromFloat32, toFloat32 } from './convert.js';

const f32 = (bits: number): number => new Float32Array(new Uint32Array([bits]).buffer)[0]!;
const toF16 = (x: number): number => f32ToF16(new Float32Array([x]))[0]!;
const toBf16 = (x: number): number => f32ToBf16(new Float32Array([x]))[0]!;
const fromF16 = (h: number): number => f16ToF32(new Uint16Array([h]))[0]!;
const fromBf16 = (h: number): number => bf16ToF32(new Uint16Array([h]))[0]!;

describe('float16', () => {
  it('decodes landmarks exactly', () => {
    expect(fromF16(0x3c00)).toBe(1);
    expect(fromF16(0xc000)).toBe(-2);
    expect(fromF16(0x7bff)).toBe(65504);
    expect(fromF16(0x0001)).toBe(2 ** -24);
    expect(fromF16(0x03ff)).toBe(1023 * 2 ** -24);
    expect(fromF16(0x7c00)).toBe(Infinity);
    expect(fromF16(0xfc00)).toBe(-Infinity);
    expect(Object.is(fromF16(0x8000), -0)).toBe(true);
    expect(fromF16(0x7e00)).toBeNaN();
  });

  it('round-trips every non-NaN bit pattern', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToF16(f16ToF32(all));
    for (let h = 0; h < 65536; h++) {
      const isNan = (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
      if (isNan) expect((back[h]! & 0x7c00) === 0x7c00 && (back[h]! & 0x3ff) !== 0).toBe(true);
      else if (back[h] !== h) throw new Error(`0x${h.toString(16)} -> 0x${back[h]!.toString(16)}`);
    }
  });

  it('rounds ties to even, overflows to Inf, underflows through subnormals', () => {
    expect(toF16(1 + 2 ** -11)).toBe(0x3c00); // tie -> even (down)
    expect(toF16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie -> even (up)
    expect(toF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01); // above the tie
    expect(toF16(65504)).toBe(0x7bff);
    expect(toF16(65519.99)).toBe(0x7bff);
    expect(toF16(65520)).toBe(0x7c00); // tie at max -> Inf (even)
    expect(toF16(1e10)).toBe(0x7c00);
    expect(toF16(-1e10)).toBe(0xfc00);
    expect(toF16(2 ** -25)).toBe(0); // exactly half the smallest subnormal -> even (0)
    expect(toF16(2 ** -25 + 2 ** -40)).toBe(1);
    expect(toF16(3 * 2 ** -25)).toBe(2); // 1.5 subnormal ulps -> 2 (even)
    expect(toF16(1023.5 * 2 ** -24)).toBe(0x0400); // rounds up into the smallest normal
    expect(toF16(-0)).toBe(0x8000);
    expect(toF16(NaN)).toBe(0x7e00);
    expect(toF16(f32(0x00000001))).toBe(0); // f32 subnormal
  });

  it('is the nearest float16 for random float32 values (ties to even)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (bits) => {
        const x = f32(bits >>> 0);
        if (Number.isNaN(x)) return;
        const h = toF16(x);
        const y = fromF16(h);
        if (Math.abs(x) >= 65520) {
          expect(Math.abs(y)).toBe(Infinity);
          return;
        }
        const err = Math.abs(x - y);
        for (const nb of [h - 1, h + 1]) {
          if (nb < 0 || nb > 0xffff || (nb & 0x7fff) >= 0x7c00) continue;
          if ((nb & 0x8000) !== (h & 0x8000)) continue;
          const e2 = Math.abs(x - fromF16(nb));
          expect(err).toBeLessThanOrEqual(e2);
          if (err === e2) expect(h & 1).toBe(0);
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('bfloat16', () => {
  it('widens exactly and rounds to nearest even', () => {
    expect(fromBf16(0x3f80)).toBe(1);
    expect(toBf16(1)).toBe(0x3f80);
    expect(toBf16(f32(0x3f808000))).toBe(0x3f80); // tie -> even (down)
    expect(toBf16(f32(0x3f818000))).toBe(0x3f82); // tie -> even (up)
    expect(toBf16(f32(0x3f808001))).toBe(0x3f81);
    expect(toBf16(f32(0x7f7fffff))).toBe(0x7f80); // max float rounds to Inf
    expect(toBf16(Infinity)).toBe(0x7f80);
    expect(toBf16(-Infinity)).toBe(0xff80);
    expect(toBf16(NaN)).toBe(0x7fc0);
    expect(toBf16(f32(0x00010000))).toBe(0x0001); // subnormal kept
    expect(toBf16(-0)).toBe(0x8000);
  });

  it('round-trips every non-NaN bit pattern', () => {
    const all = new Uint16Array(65536).map((_, i) => i);
    const back = f32ToBf16(bf16ToF32(all));
    for (let h = 0; h < 65536; h++) {
      if ((h & 0x7f80) === 0x7f80 && (h & 0x7f) !== 0) continue;
      if (back[h] !== h) throw new Error(`0x${h.toString(16)} -> 0x${back[h]!.toString(16)}`);
    }
  });
});

describe('float8 and RawTensor conversion', () => {
  it('decodes float8 landmarks', () => {
    const e4 = f8e4m3ToF32(new Uint8Array([0x38, 0x7e, 0x7f, 0x01, 0xb8]));
    expect([...e4.slice(0, 2)]).toEqual([1, 448]);
    expect(e4[2]).toBeNaN();
    expect(e4[3]).toBe(2 ** -9);
    expect(e4[4]).toBe(-1);
    const e5 = f8e5m2ToF32(new Uint8Array([0x3c, 0x7b, 0x7c, 0x01]));
    expect([...e5]).toEqual([1, 57344, Infinity, 2 ** -16]);
  });

  it('toFloat32 reads every dtype, including unaligned bytes', () => {
    const unaligned = new Uint8Array(9).subarray(1);
    unaligned.set(new Uint8Array(new Float32Array([1.5, -2]).buffer));
    expect([...toFloat32({ dtype: 'F32', shape: [2], bytes: unaligned })]).toEqual([1.5, -2]);
    const i64 = new Uint8Array(new BigInt64Array([-3n, 2n ** 40n]).buffer);
    expect([...toFloat32({ dtype: 'I64', shape: [2], bytes: i64 })]).toEqual([-3, 2 ** 40]);
    expect([...toFloat32({ dtype: 'BOOL', shape: [3], bytes: new Uint8Array([0, 1, 2]) })]).toEqual([0, 1, 1]);
    expect([...toFloat32({ dtype: 'I8', shape: [1], bytes: new Uint8Array([255]) })]).toEqual([-1]);
    expect([...toFloat32({ dtype: 'F64', shape: [], bytes: new Uint8Array(new Float64Array([0.25]).buffer) })]).toEqual(
      [0.25],
    );
    expect(() => toFloat32({ dtype: 'F32', shape: [3], bytes: new Uint8Array(8) })).toThrow(/needs 12 bytes/);
  });

  it('fromFloat32 round-trips through BF16 and F16', () => {
    const v = new Float32Array([0, 1, -2.5, 0.1, 1e-6, 60000]);
    const bf = toFloat32(fromFloat32(v, [2, 3], 'BF16'));
    const h = toFloat32(fromFloat32(v, [2, 3], 'F16'));
    for (let i = 0; i < v.length; i++) {
      expect(Math.abs(bf[i]! - v[i]!)).toBeLessThanOrEqual(Math.abs(v[i]!) * 2 ** -8);
      expect(Math.abs(h[i]! - v[i]!)).toBeLessThanOrEqual(Math.max(Math.abs(v[i]!) * 2 ** -11, 2 ** -25));
    }
    expect(() => fromFloat32(v, [5], 'F32')).toThrow(/do not fill/);
  });
});
