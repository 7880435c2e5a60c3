import { describe, expect, it } from 'vitest';
import { getTrainConfig } from './config/index.js';
import { Pi0ConfigError } from './errors.js';
import { trainPi0 } from './train.js';

describe('trainPi0 refuses what the trainer does not implement, before anything is allocated', () => {
  it('pi0_libero keeps an EMA (openpi ema_decay 0.99): a typed error that points at plan', async () => {
    const err = await trainPi0({
      config: getTrainConfig('pi0_libero'),
      runDir: '/nonexistent/never-created',
      dataRoot: '/nonexistent',
      resume: false,
      overwrite: false,
      logger: { info: () => {}, warn: () => {}, metric: () => {} } as never,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Pi0ConfigError);
    expect((err as Error).message).toMatch(/EMA/);
    expect((err as Error).message).toMatch(/vla-train plan pi0_libero/);
  });
});
