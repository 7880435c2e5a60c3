// Public API of apps/serve. Filled in by its issue.
export {};
