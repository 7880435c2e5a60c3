// Public API of packages/freeze-policy. Filled in by its issue.
export {};
