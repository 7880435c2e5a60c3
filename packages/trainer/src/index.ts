// Public API of @vla-lora/trainer.
export * from './optim/index.js';
export * from './errors.js';
export * from './rng/index.js';
export * from './config/index.js';
export * from './plan/index.js';
export * from './log/index.js';
export * from './metrics/index.js';
export * from './checkpoint/index.js';
export * from './loop/index.js';
export { createLoopOptimizer } from './optim-adapter.js';
export * from './run/index.js';
export * from './pi0/index.js';
export { freezeWithPolicy, preflight } from './recipes/freeze-and-preflight.js';
