// Public API of packages/lora-core. Filled in by its issue.
export {};
