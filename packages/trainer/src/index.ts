// Public API of @vla-lora/trainer.
export * from './optim/index.js';
