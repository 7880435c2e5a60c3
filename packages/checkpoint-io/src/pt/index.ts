// Public API of checkpoint-io's pt module.
export {};
