// Public API of @vla-lora/trainer: a generic LoRA training loop (no model knowledge): AdamW as torch,
// schedules, clipping, Philox RNG streams, checkpoints, the run directory, metrics and the report.
export * from './optim/index.js';
export * from './errors.js';
export * from './rng/index.js';
export * from './log/index.js';
export * from './metrics/index.js';
export * from './checkpoint/index.js';
export * from './loop/index.js';
export { createLoopOptimizer } from './optim-adapter.js';
export * from './run/index.js';
