// Shared vitest settings for every package: node environment, tests beside the code,
// one fork per file (tfjs backends are process-global), generous timeouts for the 2-core CI.
import { defineConfig } from 'vitest/config';

export function packageConfig(overrides = {}) {
  return defineConfig({
    test: {
      environment: 'node',
      include: ['src/**/*.test.ts', 'scripts/**/*.test.ts'],
      pool: 'forks',
      testTimeout: 60_000,
      hookTimeout: 60_000,
      ...overrides,
    },
  });
}
