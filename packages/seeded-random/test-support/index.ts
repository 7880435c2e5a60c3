// seeded-random's test helpers for other packages' tests and benches (`@vla-lora/seeded-random/test-support`):
// repo-only, never in dist or in the published exports.
export { lcgFloats, lcgStates, lcgUniform } from './lcg.js';
