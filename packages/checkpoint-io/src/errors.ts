// Base of every typed error of @vla-lora/checkpoint-io. Each module (safetensors, pt, peft, state)
// declares its own subclasses in its own errors.ts; messages say what went wrong and what to do.
export class CheckpointIoError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
