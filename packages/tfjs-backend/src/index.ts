// Public API of packages/tfjs-backend. Filled in by its issue.
export {};
