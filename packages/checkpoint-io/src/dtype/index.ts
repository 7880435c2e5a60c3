// Public API of checkpoint-io's dtype module.
export {};
