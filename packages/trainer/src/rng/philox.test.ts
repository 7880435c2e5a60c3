import { describe, expect, it } from 'vitest';
import { Philox, philox4x32 } from './philox.js';
import { RngStreams } from './streams.js';

const hex = (xs: number[]) => xs.map((x) => x.toString(16).padStart(8, '0'));

describe('philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(hex(philox4x32([0, 0, 0, 0], [0, 0]))).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    expect(hex(philox4x32([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))).toEqual([
      '408f276d',
      '41c83b0e',
      'a20bc7c6',
      '6d5451fd',
    ]);
    expect(hex(philox4x32([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0]))).toEqual([
      'd16cfe09',
      '94fdcceb',
      '5001e420',
      '24126ea1',
    ]);
  });

  it('state round-trips through JSON mid-block and continues identically', () => {
    const a = new Philox(1234, 5);
    for (let i = 0; i < 7; i++) a.nextU32(); // 7 words: mid-block
    const saved = JSON.parse(JSON.stringify(a.state())) as unknown;
    const expected = Array.from({ length: 20 }, () => a.normal());
    const b = Philox.fromState(saved);
    expect(Array.from({ length: 20 }, () => b.normal())).toEqual(expected);
  });

  it('rejects a damaged state', () => {
    expect(() => Philox.fromState({ kind: 'philox4x32-10', key: [1], counter: [0, 0, 0, 0], used: 0 })).toThrow(
      /damaged/,
    );
    expect(() => Philox.fromState(null)).toThrow();
  });

  it('draws sensible distributions', () => {
    const p = new Philox(42);
    const n = 20000;
    let s = 0;
    let s2 = 0;
    let b = 0;
    for (let i = 0; i < n; i++) {
      const x = p.normal();
      s += x;
      s2 += x * x;
      b += p.betaA1(1.5);
    }
    expect(Math.abs(s / n)).toBeLessThan(0.03);
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05);
    expect(Math.abs(b / n - 0.6)).toBeLessThan(0.01); // E[Beta(1.5,1)] = 1.5/2.5
    expect(p.permutation(10).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('named streams are independent and restorable', () => {
    const r = new RngStreams(7);
    const d = r.get('data').nextU32();
    const n = r.get('noise').nextU32();
    expect(d).not.toBe(n);
    r.get('noise').normal();
    const restored = RngStreams.fromState(JSON.parse(JSON.stringify(r.state())));
    expect(restored.get('noise').uniform()).toBe(r.get('noise').uniform());
    expect(restored.get('data').uniform()).toBe(r.get('data').uniform());
    expect(new RngStreams(7).get('data').nextU32()).toBe(d);
  });
});
