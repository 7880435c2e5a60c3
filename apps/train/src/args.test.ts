import { describe, expect, it, vi } from 'vitest';
import { parseArgs } from './args.js';
import { run } from './main.js';
import { UsageError } from '@vla-lora/cli-kit';

describe('vla-train argument parsing', () => {
  it('train is the default command', () => {
    const inv = parseArgs([
      'pi0_libero_lora_tiny',
      '--exp-name',
      'run1',
      '--set',
      'trainer.numTrainSteps=10',
      '--set',
      'data.batchSize=4',
    ]);
    expect(inv).toMatchObject({
      kind: 'train',
      config: 'pi0_libero_lora_tiny',
      expName: 'run1',
      resume: false,
      overwrite: false,
      set: ['trainer.numTrainSteps=10', 'data.batchSize=4'],
      runsRoot: 'runs',
      dataRoot: 'data',
    });
  });
  it('--resume and --overwrite exclude each other', () => {
    expect(() => parseArgs(['pi0_libero_lora_tiny', '--exp-name', 'a', '--resume', '--overwrite'])).toThrow(
      /exclude each other/,
    );
  });
  it('--exp-name is required and sane', () => {
    expect(() => parseArgs(['pi0_libero_lora_tiny'])).toThrow(UsageError);
    expect(() => parseArgs(['pi0_libero_lora_tiny', '--exp-name', '../x'])).toThrow(/letters, digits/);
  });
  it("unknown configs are refused by pi0's registry when the command runs: exit 1 with the list", async () => {
    const written: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((t) => {
      written.push(String(t));
      return true;
    });
    try {
      expect(await run(['pi0_nope', '--exp-name', 'a'])).toBe(1);
      expect(await run(['plan', 'nope'])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(
      /^vla-train: Pi0ConfigError: unknown config "pi0_nope".*known configs: pi0_libero, pi0_libero_lora, /,
    );
    expect(written[1]).toMatch(/^vla-train: Pi0ConfigError: unknown config "nope"/);
  });
  it('--help lists the configs', () => {
    const inv = parseArgs(['--help']);
    expect(inv.kind).toBe('help');
    expect((inv as { text: string }).text).toMatch(/Configs:[\s\S]*pi0_libero_lora_tiny[\s\S]*embedded demo/);
    expect((inv as { text: string }).text).toMatch(/plan \[options\] <config>/);
  });
  it('no arguments shows the help', () => {
    const inv = parseArgs([]);
    expect(inv.kind).toBe('help');
    expect((inv as { text: string }).text).toMatch(/pi0_libero_lora_tiny/);
  });
  it('plan, compute-norm-stats, demo', () => {
    expect(parseArgs(['plan', 'pi0_libero_lora', '--json'])).toMatchObject({
      kind: 'plan',
      config: 'pi0_libero_lora',
      json: true,
    });
    expect(parseArgs(['compute-norm-stats', 'pi0_libero_lora_tiny', '--data-root', '/tmp/d'])).toMatchObject({
      kind: 'compute-norm-stats',
      dataRoot: '/tmp/d',
    });
    expect(parseArgs(['demo'])).toMatchObject({ kind: 'demo', config: 'pi0_libero_lora_tiny', expName: 'demo' });
    expect(parseArgs(['demo', '--backend', 'cpu'])).toMatchObject({ kind: 'demo', backend: 'cpu' });
    expect(() => parseArgs(['demo', '--backend', 'tpu'])).toThrow(UsageError);
  });
  it('resume with base weights', () => {
    expect(parseArgs(['pi0_libero_lora', '--exp-name', 'x', '--resume', '--base-weights', '/w'])).toMatchObject({
      resume: true,
      baseWeights: '/w',
    });
  });
});
