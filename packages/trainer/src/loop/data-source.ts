import type { JsonValue } from '@vla-lora/checkpoint-io';

/** A stream of training batches whose position can be saved and restored exactly. */
export interface DataSource<B> {
  /** The next batch (a new permutation starts by itself at epoch ends). */
  next(): B | Promise<B>;
  /** The position, JSON-serialisable; `restore(cursor())` makes `next()` return the same batches again. */
  cursor(): JsonValue;
  restore(cursor: JsonValue): void;
  /** Epochs completed so far (fractional). */
  epoch(): number;
  /** Samples per batch (for samples/s). */
  readonly batchSize: number;
  /** Frees a batch's tensors once the step is done (optional). */
  disposeBatch?(batch: B): void;
}
