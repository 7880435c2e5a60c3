// Public API of packages/zero-merge. Filled in by its issue.
export {};
