import { describe, expect, it } from 'vitest';
import { causalMask, concatKeys, makeAtt2dMasks, positionsFromPadding, type BoolMask2d } from './masks.js';

const rows = (m: BoolMask2d, b = 0): string[] =>
  Array.from({ length: m.sq }, (_, i) =>
    Array.from(m.allowed.subarray((b * m.sq + i) * m.sk, (b * m.sq + i + 1) * m.sk)).join(''),
  );

describe('attention masks', () => {
  it("make_att_2d_masks: big_vision's documented examples", () => {
    // [[1 1 1 1 1 1]]: pure causal attention.
    expect(rows(makeAtt2dMasks([[1, 1, 1, 1, 1, 1]], [[1, 1, 1, 1, 1, 1]]))).toEqual([
      '100000',
      '110000',
      '111000',
      '111100',
      '111110',
      '111111',
    ]);
    // [[0 0 0 1 1 1]]: prefix-LM: the first 3 attend among themselves, the rest causally.
    expect(rows(makeAtt2dMasks([[1, 1, 1, 1, 1, 1]], [[0, 0, 0, 1, 1, 1]]))).toEqual([
      '111000',
      '111000',
      '111000',
      '111100',
      '111110',
      '111111',
    ]);
    // [[1 0 1 0 1 0 0 1 0 0]]: causal attention between 4 blocks.
    expect(rows(makeAtt2dMasks([Array(10).fill(1)], [[1, 0, 1, 0, 1, 0, 0, 1, 0, 0]]))).toEqual([
      '1100000000',
      '1100000000',
      '1111000000',
      '1111000000',
      '1111111000',
      '1111111000',
      '1111111000',
      '1111111111',
      '1111111111',
      '1111111111',
    ]);
  });

  it("pi0's prefix/suffix: full prefix, state token, action block; padding masked both ways", () => {
    // prefix: 2 image tokens + 2 language tokens (the last one padding); suffix: state + 3 actions.
    const pad = [[1, 1, 1, 0, 1, 1, 1, 1]];
    const ar = [[0, 0, 0, 0, 1, 1, 0, 0]];
    expect(rows(makeAtt2dMasks(pad, ar))).toEqual([
      '11100000', // image: sees the real prefix only (not the pad, not state/actions)
      '11100000',
      '11100000', // language
      '00000000', // a padding query sees nothing
      '11101000', // state: prefix + itself, no actions
      '11101111', // actions: prefix, state and the whole action block
      '11101111',
      '11101111',
    ]);
  });

  it('causal mask with key padding, key concatenation and position ids', () => {
    expect(rows(causalMask(1, 3, [[1, 0, 1]]))).toEqual(['100', '100', '101']);
    const a: BoolMask2d = { batch: 1, sq: 2, sk: 1, allowed: Uint8Array.from([1, 0]) };
    const b: BoolMask2d = { batch: 1, sq: 2, sk: 2, allowed: Uint8Array.from([1, 0, 1, 1]) };
    expect(rows(concatKeys(a, b))).toEqual(['110', '011']);
    expect(positionsFromPadding([[0, 1, 1, 0, 1]]).map((r) => Array.from(r))).toEqual([[-1, 0, 1, 1, 2]]);
    expect(positionsFromPadding([[1, 1, 1]], [5]).map((r) => Array.from(r))).toEqual([[5, 6, 7]]);
  });
});
