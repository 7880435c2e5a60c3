// Public API of packages/gemma-config. Filled in by its issue.
export {};
