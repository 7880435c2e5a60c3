// Public API of packages/lerobot-data. Filled in by its issue.
export {};
