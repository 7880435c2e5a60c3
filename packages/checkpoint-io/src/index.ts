// Public API of packages/checkpoint-io. Filled in by its issue.
export {};
