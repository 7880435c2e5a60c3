// policy-server's test helpers for other packages' tests (`@vla-lora/policy-server/test-support`): repo-only,
// never in dist or in the published exports.
export { rawUpgrade } from './raw-upgrade.js';
