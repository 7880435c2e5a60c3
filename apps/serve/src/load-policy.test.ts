// vla-serve's usage checks before loading (the loading itself is tested in @vla-lora/pi0's load-trained.test.ts).
import { describe, expect, it } from 'vitest';
import { ServeUsageError } from './errors.js';
import { loadPolicy } from './load-policy.js';

describe('loadPolicy usage', () => {
  it('no base, or an unknown config', async () => {
    const opts = { config: 'pi0_libero_lora_tiny', adapter: '/nonexistent/adapter' };
    await expect(loadPolicy({ ...opts, baseWeights: null })).rejects.toThrow(ServeUsageError);
    await expect(loadPolicy({ ...opts, baseWeights: null })).rejects.toThrow(/--base-weights DIR .* or --seeded-base/);
    await expect(loadPolicy({ ...opts, config: 'pi0_nope', seededBase: true })).rejects.toThrow(ServeUsageError);
    await expect(loadPolicy({ ...opts, config: 'pi0_nope', seededBase: true })).rejects.toThrow(
      /unknown config "pi0_nope".*pi0_libero_lora_tiny/,
    );
    await expect(loadPolicy({ ...opts, baseWeights: '/x', seededBase: true })).rejects.toThrow(/exclude each other/);
  });
});
