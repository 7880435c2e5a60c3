// Public API of apps/train. Filled in by its issue.
export {};
