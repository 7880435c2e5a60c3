// Public API of checkpoint-io's fs module.
export {};
