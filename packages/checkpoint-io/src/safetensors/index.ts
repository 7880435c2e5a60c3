// Public API of checkpoint-io's safetensors module.
export {};
