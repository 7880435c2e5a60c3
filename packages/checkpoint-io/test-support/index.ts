// checkpoint-io's test helpers for other packages' tests (`@vla-lora/checkpoint-io/test-support`): repo-only,
// never in dist or in the published exports.
export { allTensors } from './tensors.js';
export { testTmpDir } from './tmp.js';
