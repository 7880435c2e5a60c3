import { describe, expect, it } from 'vitest';
import { collect, intInRange, positiveInt, positiveNumber } from './options.js';

class UsageError extends Error {}

describe('option parsers', () => {
  it('collect gathers a repeatable option in order', () => {
    expect(collect('b=2', collect('a=1', []))).toEqual(['a=1', 'b=2']);
    expect(collect('x')).toEqual(['x']);
  });
  it('positiveInt: integers >= 1, else the CLI error with the value', () => {
    const p = positiveInt('--nnodes', UsageError);
    expect(p('3')).toBe(3);
    for (const bad of ['0', '-1', '1.5', 'x', ''])
      expect(() => p(bad)).toThrow(new UsageError(`--nnodes must be a positive integer, got ${JSON.stringify(bad)}`));
    expect(() => p('0')).toThrow(UsageError);
  });
  it('positiveNumber: any number > 0, else the CLI error with the value', () => {
    const p = positiveNumber('--gradient-clipping', UsageError);
    expect(p('0.5')).toBe(0.5);
    expect(p('1e-3')).toBe(0.001);
    for (const bad of ['0', '-1', 'x', '', 'NaN'])
      expect(() => p(bad)).toThrow(new UsageError(`--gradient-clipping must be > 0, got ${JSON.stringify(bad)}`));
  });
  it('intInRange: decimal digits within the bounds, else the given error', () => {
    const p = intInRange('--port', 0, 65535, RangeError);
    expect(p('0')).toBe(0);
    expect(p(' 8000 ')).toBe(8000);
    expect(p('65535')).toBe(65535);
    for (const bad of ['65536', '-1', '1e3', '0x10', '1.0', 'port'])
      expect(() => p(bad)).toThrow(new RangeError('--port must be an integer in [0, 65535]'));
  });
});
