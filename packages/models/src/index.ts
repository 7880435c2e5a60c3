// Public API of packages/models. Filled in by its issue.
export {};
