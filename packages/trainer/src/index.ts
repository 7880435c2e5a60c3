// Public API of packages/trainer. Filled in by its issue.
export {};
