// Public API of checkpoint-io's peft module.
export {};
