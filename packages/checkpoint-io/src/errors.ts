// Typed errors of @vla-lora/checkpoint-io.
export {};
