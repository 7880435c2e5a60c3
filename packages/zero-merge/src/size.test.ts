import { describe, expect, it } from 'vitest';
import { parseSize } from './size.js';
import { ZeroMergeUsageError } from './errors.js';

describe('parseSize', () => {
  it('reads decimal and binary units like huggingface_hub', () => {
    expect(parseSize('5GB')).toBe(5_000_000_000);
    expect(parseSize('500MB')).toBe(500_000_000);
    expect(parseSize('2GiB')).toBe(2 * 2 ** 30);
    expect(parseSize('1048576')).toBe(1048576);
    expect(parseSize('1.5kb')).toBe(1500);
  });
  it('rejects nonsense', () => {
    expect(() => parseSize('five')).toThrow(ZeroMergeUsageError);
    expect(() => parseSize('0')).toThrow(ZeroMergeUsageError);
    expect(() => parseSize('3XB')).toThrow(ZeroMergeUsageError);
  });
});
