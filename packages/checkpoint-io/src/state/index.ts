// Public API of checkpoint-io's state module.
export {};
