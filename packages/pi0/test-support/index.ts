// Test helpers of @vla-lora/pi0 (the `@vla-lora/pi0/test-support` export exists in the repo only:
// it is not in publishConfig and test-support/ is not in the published files).
export * from './adapter-surgery.js';
export * from './tiny-run.js';
