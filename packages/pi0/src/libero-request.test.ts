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
    bad(without('observation/image'), /^missing "observation\/image": a uint8 array .* \[4, 4, 3\]/);
    bad(without('observation/wrist_image'), /^missing "observation\/wrist_image"/);
    bad(without('observation/state'), /^missing "observation\/state": a float array of shape \[8\]/);
    bad(without('prompt'), /^missing "prompt"/);
  });

  it('names the key with a wrong dtype, shape or value', () => {
    bad(
      { ...good(), 'observation/image': float32NdArray(new Float32Array(48), [4, 4, 3]) },
      /"observation\/image" must be .* got dtype <f4/,
    );
    bad(
      { ...good(), 'observation/wrist_image': uint8NdArray(new Uint8Array(3 * 16), [3, 4, 4]) },
      /"observation\/wrist_image" .* got shape \[3, 4, 4\]/,
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
});
