import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import type { ExtractedAdapter } from './extract.js';
import { addExtractAdapterOptions, extractAdapterFlagOptions, formatExtractedAdapter } from './extract-cli.js';
import type { AdapterReport } from './verify.js';

class UsageError extends Error {}

function parse(args: string[]): Record<string, unknown> {
  const cmd = new Command('t').exitOverride();
  addExtractAdapterOptions(cmd, { configDefault: 'the one beside it', UsageError });
  cmd.parse(args, { from: 'user' });
  return cmd.opts();
}

describe('extract-adapter flags', () => {
  it('parses the shared flags and maps them to extraction options (absent flags stay absent)', () => {
    const f = parse([
      '--adapter-name',
      'a',
      '--config',
      'c.json',
      '--r',
      '8',
      '--lora-alpha',
      '16.5',
      '--target-modules',
      'q_proj, v_proj',
      '--target-modules',
      'o_proj',
      '--base-model',
      'm',
    ]);
    expect(extractAdapterFlagOptions(f)).toEqual({
      adapterName: 'a',
      configPath: 'c.json',
      r: 8,
      loraAlpha: 16.5,
      targetModules: ['q_proj', 'v_proj', 'o_proj'],
      baseModel: 'm',
    });
    expect(extractAdapterFlagOptions(parse([]))).toEqual({});
  });

  it('refuses a rank that is not a positive integer and an alpha that is not a positive number', () => {
    expect(() => parse(['--r', '2.5'])).toThrow(new UsageError('--r must be a positive integer, got "2.5"'));
    expect(() => parse(['--r', '0'])).toThrow(UsageError);
    expect(() => parse(['--lora-alpha', '-1'])).toThrow(
      new UsageError('--lora-alpha must be a positive number, got "-1"'),
    );
    expect(() => parse(['--lora-alpha', 'x'])).toThrow(UsageError);
  });

  it('names the --config default in the help', () => {
    const cmd = new Command('t');
    addExtractAdapterOptions(cmd, { configDefault: 'the one beside it', UsageError });
    expect(cmd.options.find((o) => o.long === '--config')?.description).toBe(
      'adapter_config.json to use (default: the one beside it)',
    );
  });
});

describe('formatExtractedAdapter', () => {
  const report = {
    dir: '/o',
    loraTensors: 28,
    loraValues: 9536,
    otherTensors: 2,
    modules: 14,
    ranks: { 4: 10, 8: 4 },
    config: { r: 4 },
    warnings: ['w1'],
  } as unknown as AdapterReport;
  const r: ExtractedAdapter & { extraTensors: number } = {
    output: '/o',
    adapterName: 'default',
    loraTensors: 28,
    loraValues: 9536,
    configSource: 'flags',
    report,
    extraTensors: 2,
  };

  it('prints what was written and verified, with the other tensors where the tool can write them', () => {
    expect(formatExtractedAdapter(r)).toBe(
      'wrote adapter /o (adapter "default", config from flags)\n' +
        'verified: 28 LoRA tensors, 9,536 LoRA values, 14 modules, ranks r=4×10 r=8×4\nwarning: w1\n',
    );
    expect(formatExtractedAdapter(r, { otherTensors: true })).toContain(
      'verified: 28 LoRA tensors, 9,536 LoRA values, 14 modules, 2 other tensors, ranks r=4×10 r=8×4\n',
    );
  });

  it('prints the whole result as JSON without the config', () => {
    const j = JSON.parse(formatExtractedAdapter(r, { json: true }));
    expect(j.extraTensors).toBe(2);
    expect(j.report.config).toBeUndefined();
    expect(j.report.loraValues).toBe(9536);
    expect(Object.keys(j)).toEqual([
      'output',
      'adapterName',
      'loraTensors',
      'loraValues',
      'configSource',
      'report',
      'extraTensors',
    ]);
  });
});
