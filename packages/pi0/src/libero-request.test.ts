// Every malformed LIBERO request is a BadRequestError naming the key (the server sends it as a
// text frame and keeps the connection).
import { describe, expect, it } from 'vitest';
import {
  BadRequestError,
  makeNdArray,
  NpGeneric,
  float32NdArray,
  uint8NdArray,
  type WireMap,
} from '@vla-lora/policy-server';
import { frameFromShape, resizeWithPad } from '@vla-lora/image-tools';
import { parseLiberoRequest } from './libero-request.js';

const shape = { imageSize: 4, stateDim: 8 };
const good = (): WireMap => ({
  'observation/image': uint8NdArray(new Uint8Array(48).fill(7), [4, 4, 3]),
  'observation/wrist_image': uint8NdArray(new Uint8Array(48).fill(9), [4, 4, 3]),
  'observation/state': float32NdArray(Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8]), [8]),
  prompt: 'pick up the bowl',
  extra_key: 'ignored',
});

describe('parseLiberoRequest', () => {
  it("accepts openpi's LIBERO request (float64 state too, prompt as bytes, numpy scalar noise seed)", () => {
    const r = parseLiberoRequest(good(), shape);
    expect(Array.from(r.state)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(r.image[0]).toBe(7);
    expect(r.wristImage[0]).toBe(9);
    expect(r.prompt).toBe('pick up the bowl');
    expect(r.noiseSeed).toBeNull();
    const f64 = new Float64Array([0.5, 0, 0, 0, 0, 0, 0, -1]);
    const r2 = parseLiberoRequest(
      {
        ...good(),
        'observation/state': makeNdArray('<f8', [8], new Uint8Array(f64.buffer)),
        prompt: new TextEncoder().encode('open drawer'),
        noise_seed: new NpGeneric('<u4', 42),
      },
      shape,
    );
    expect(r2.state[0]).toBe(0.5);
    expect(r2.prompt).toBe('open drawer');
    expect(r2.noiseSeed).toBe(42);
    expect(parseLiberoRequest({ ...good(), noise_seed: 7n }, shape).noiseSeed).toBe(7);
  });

  const bad = (obs: WireMap, re: RegExp): void => {
    let err: unknown = null;
    try {
      parseLiberoRequest(obs, shape);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as Error).message).toMatch(re);
  };
  const without = (k: string): WireMap => {
    const o = good();
    delete o[k];
    return o;
  };

  it('names the missing key', () => {
    bad(without('observation/image'), /^missing "observation\/image": an RGB image array: uint8/);
    bad(without('observation/wrist_image'), /^missing "observation\/wrist_image"/);
    bad(without('observation/state'), /^missing "observation\/state": a float array of shape \[8\]/);
    bad(without('prompt'), /^missing "prompt"/);
  });

  it('names the key with a wrong dtype, shape or value', () => {
    bad(
      { ...good(), 'observation/image': makeNdArray('<i4', [4, 4, 3], new Uint8Array(4 * 48)) },
      /"observation\/image" must be .* got dtype <i4/,
    );
    bad(
      { ...good(), 'observation/wrist_image': uint8NdArray(new Uint8Array(16), [4, 4]) },
      /"observation\/wrist_image" .* got shape \[4, 4\]/,
    );
    bad(
      { ...good(), 'observation/image': uint8NdArray(new Uint8Array(0), [5, 0, 3]) },
      /"observation\/image": .*EmptyFrame|"observation\/image": Frame is 5×0/,
    );
    bad(
      { ...good(), 'observation/image': uint8NdArray(new Uint8Array(64), [4, 4, 4]) },
      /"observation\/image" .* got 4 channels .*drop the alpha channel/,
    );
    bad(
      {
        ...good(),
        'observation/image': float32NdArray(
          Float32Array.from({ length: 48 }, (_, i) => (i === 5 ? NaN : 0.5)),
          [4, 4, 3],
        ),
      },
      /"observation\/image": Float frame has NaN at flat index 5/,
    );
    bad({ ...good(), 'observation/image': 'not an image' }, /"observation\/image" must be .* got string/);
    bad(
      { ...good(), 'observation/state': float32NdArray(new Float32Array(7), [7]) },
      /"observation\/state" must be a float array of shape \[8\], got shape \[7\]/,
    );
    bad(
      { ...good(), 'observation/state': makeNdArray('<i8', [8], new Uint8Array(64)) },
      /"observation\/state" .* got dtype <i8/,
    );
    bad(
      { ...good(), 'observation/state': float32NdArray(Float32Array.from([0, 0, NaN, 0, 0, 0, 0, 0]), [8]) },
      /"observation\/state"\[2\] is NaN/,
    );
    bad({ ...good(), prompt: 5 }, /"prompt" must be a string, got number/);
    bad({ ...good(), noise_seed: -1 }, /"noise_seed" must be an integer in \[0, 2\^32\)/);
    bad({ ...good(), noise_seed: 1.5 }, /"noise_seed"/);
  });

  it("resizes frames of any size, float or CHW, with image-tools' resizeWithPad (openpi-client's resize_with_pad)", () => {
    const hwc = Uint8Array.from({ length: 7 * 13 * 3 }, (_, i) => (i * 37) % 256);
    const want = resizeWithPad({ data: hwc, height: 7, width: 13, channels: 3 }, 4, 4).data;
    const r = parseLiberoRequest({ ...good(), 'observation/image': uint8NdArray(hwc, [7, 13, 3]) }, shape);
    expect(Array.from(r.image)).toEqual(Array.from(want));
    // float32 CHW in [0, 1]: openpi's (255·x).astype(uint8), CHW → HWC, then the same resize
    const chw = new Float32Array(3 * 7 * 13);
    for (let p = 0; p < 7 * 13; p++)
      for (let c = 0; c < 3; c++) chw[c * 91 + p] = Math.fround((hwc[p * 3 + c] as number) / 255);
    const r2 = parseLiberoRequest({ ...good(), 'observation/wrist_image': float32NdArray(chw, [3, 7, 13]) }, shape);
    const want2 = resizeWithPad(frameFromShape(chw, [3, 7, 13]), 4, 4).data;
    expect(Array.from(r2.wristImage)).toEqual(Array.from(want2));
  });
});
