// models' test helpers for other packages' tests and benches (`@vla-lora/models/test-support`): repo-only,
// never in dist or in the published exports.
export { f32Entry, type TorchPi0Config, torchPi0Config, torchPi0Inputs } from './torch-pi0.js';
export { tinyBatch } from './test-batch.js';
