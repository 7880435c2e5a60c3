import { describe, expect, it } from 'vitest';
import { applyOverrides, getTrainConfig, listConfigs, trainConfigFor } from './index.js';

describe('config registry and --set', () => {
  it('lists openpi-like names and returns copies', () => {
    expect(listConfigs().map((c) => c.name)).toEqual(
      expect.arrayContaining(['pi0_libero_lora', 'pi0_libero_lora_tiny']),
    );
    const a = getTrainConfig('pi0_libero_lora');
    a.optim.peakLr = 1;
    expect(getTrainConfig('pi0_libero_lora').optim).toMatchObject({
      warmupSteps: 1000,
      peakLr: 2.5e-5,
      decaySteps: 30000,
      decayLr: 2.5e-6,
      clipGradientNorm: 1,
    });
    expect(() => getTrainConfig('nope')).toThrow(/known configs/);
  });
  it('applies typed overrides and rejects unknown keys or wrong types', () => {
    const c = applyOverrides(getTrainConfig('pi0_libero_lora_tiny'), [
      'trainer.numTrainSteps=12',
      'optim.peakLr=1e-4',
      'backend=cpu',
      'data.useDeltaActions=true',
    ]);
    expect(c.trainer.numTrainSteps).toBe(12);
    expect(c.optim.peakLr).toBe(1e-4);
    expect(c.backend).toBe('cpu');
    expect(c.data.useDeltaActions).toBe(true);
    expect(() => applyOverrides(c, ['trainer.numSteps=3'])).toThrow(/no such config key[\s\S]*trainer\.numTrainSteps/);
    expect(() => applyOverrides(c, ['trainer.numTrainSteps=abc'])).toThrow(/not a valid number/);
    expect(() => applyOverrides(c, ['data.batchSize=true'])).toThrow(/expected a number/);
    expect(() => applyOverrides(c, ['name=x'])).toThrow(/positional/);
    expect(() => applyOverrides(c, ['novalue'])).toThrow(/key=value/);
  });
  it('trainConfigFor: the named config, --set overrides, then the backend flag', () => {
    expect(trainConfigFor('pi0_libero_lora_tiny')).toEqual(getTrainConfig('pi0_libero_lora_tiny'));
    const c = trainConfigFor('pi0_libero_lora_tiny', {
      set: ['trainer.numTrainSteps=7', 'backend=cpu'],
      backend: 'wasm',
    });
    expect(c.trainer.numTrainSteps).toBe(7);
    expect(c.backend).toBe('wasm');
    expect(trainConfigFor('pi0_libero_lora_tiny', { set: ['backend=cpu'] }).backend).toBe('cpu');
    expect(() => trainConfigFor('pi0_nope')).toThrow(/unknown config "pi0_nope"/);
  });
});
