// Public API of @vla-lora/checkpoint-io. Each module owns its own index; this file only re-exports.
export * from './errors.js';
export * from './dtype/index.js';
export * from './fs/index.js';
export * from './source/index.js';
export { openFileSource } from './source/file.js';
export * from './safetensors/index.js';
export * from './pt/index.js';
export * from './peft/index.js';
export * from './state/index.js';
