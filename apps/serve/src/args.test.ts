import { describe, expect, it } from 'vitest';
import { parseServeArgs } from './args.js';
import { ServeUsageError } from './errors.js';

describe('parseServeArgs', () => {
  it('parses the serve flags with openpi-like defaults', () => {
    const p = parseServeArgs([
      '--config',
      'pi0_libero_lora_tiny',
      '--base-weights',
      'b',
      '--adapter',
      'a',
      '--merge',
      '--port',
      '0',
      '--max-frame-bytes',
      '4096',
      '--seed',
      '9',
    ]);
    expect(p).toEqual({
      kind: 'serve',
      args: {
        config: 'pi0_libero_lora_tiny',
        baseWeights: 'b',
        seededBase: false,
        adapter: 'a',
        trainable: null,
        normStats: null,
        tokenizer: null,
        dataRoot: 'data',
        merge: true,
        host: '0.0.0.0',
        port: 0,
        maxFrameBytes: 4096,
        backend: null,
        seed: 9,
        allowUntrained: false,
        verbose: false,
      },
    });
    const d = parseServeArgs([
      '--config',
      'c',
      '--adapter',
      'a',
      '--seeded-base',
      '--backend',
      'cpu',
      '--tokenizer',
      't.model',
    ]);
    expect(d.kind === 'serve' && d.args).toMatchObject({
      port: 8000,
      maxFrameBytes: 64 * 1024 * 1024,
      seededBase: true,
      backend: 'cpu',
      merge: false,
      tokenizer: 't.model',
    });
  });

  it('help and list-configs', () => {
    const h = parseServeArgs(['--help']);
    expect(h.kind).toBe('help');
    expect(h.kind === 'help' && h.text).toMatch(/--adapter <dir>/);
    expect(parseServeArgs(['--list-configs'])).toEqual({ kind: 'list-configs' });
  });

  it('refuses bad usage with a ServeUsageError that says what to pass', () => {
    const bad = (argv: string[], re: RegExp): void => {
      expect(() => parseServeArgs(argv)).toThrow(ServeUsageError);
      expect(() => parseServeArgs(argv)).toThrow(re);
    };
    bad(['--adapter', 'a'], /--config <name> is required/);
    bad(['--config', 'c'], /--adapter <dir> is required/);
    bad(['--config', 'c', '--adapter', 'a', '--port', '70000'], /--port must be an integer in \[0, 65535\]/);
    bad(['--config', 'c', '--adapter', 'a', '--seed', '-1'], /--seed/);
    bad(['--config', 'c', '--adapter', 'a', '--backend', 'tpu'], /tpu.*Allowed choices/i);
    bad(['--config', 'c', '--adapter', 'a', '--frobnicate'], /unknown option '--frobnicate'/);
    bad(['--config', 'c', '--adapter', 'a', 'extra'], /too many arguments/);
  });
});
