// Seeded, shuffled batch order with a cursor that serialises to JSON, so a resumed run continues
// with exactly the batches the interrupted one would have drawn.
import { SamplerCursorError, InvalidOptionError } from './errors.js';
import { Rng, permutation } from './rng.js';

/** Where the sampler stands: everything needed to continue the same order. */
export interface SamplerCursor {
  /** Epochs completed so far (0-based index of the current epoch). */
  epoch: number;
  /** Index into the current epoch's permutation of the next item to draw. */
  position: number;
  seed: number;
  /** Dataset size and batch settings the order was made for (checked on restore). */
  size: number;
  batchSize: number;
  dropLast: boolean;
}

export interface BatchSamplerOptions {
  /** Number of items (frames) to draw from. */
  size: number;
  batchSize: number;
  seed: number;
  /** Skip an epoch's last incomplete batch (default true, like openpi's loader). */
  dropLast?: boolean;
  /** Continue from a saved cursor. */
  cursor?: SamplerCursor;
}

/**
 * Draws batches of positions in 0..size-1: each epoch a fresh permutation from (seed, epoch), so the
 * order of any epoch can be rebuilt from the cursor alone.
 */
export class BatchSampler {
  readonly size: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly dropLast: boolean;
  private epochNo: number;
  private pos: number;
  private perm: Uint32Array;

  constructor(opts: BatchSamplerOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1)
      throw new InvalidOptionError(`sampler size must be a positive integer (got ${opts.size})`);
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1)
      throw new InvalidOptionError(`batchSize must be a positive integer (got ${opts.batchSize})`);
    if (!Number.isInteger(opts.seed)) throw new InvalidOptionError(`seed must be an integer (got ${opts.seed})`);
    this.size = opts.size;
    this.batchSize = opts.batchSize;
    this.seed = opts.seed;
    this.dropLast = opts.dropLast ?? true;
    if (this.dropLast && this.batchSize > this.size) {
      throw new InvalidOptionError(
        `batchSize ${this.batchSize} exceeds the ${this.size} items with dropLast: no batch would ever be drawn`,
      );
    }
    this.epochNo = 0;
    this.pos = 0;
    if (opts.cursor) this.check(opts.cursor);
    this.epochNo = opts.cursor?.epoch ?? 0;
    this.pos = opts.cursor?.position ?? 0;
    this.perm = this.permutationOf(this.epochNo);
  }

  private check(c: SamplerCursor): void {
    const bad: string[] = [];
    if (c.seed !== this.seed) bad.push(`seed ${c.seed} ≠ ${this.seed}`);
    if (c.size !== this.size) bad.push(`dataset size ${c.size} ≠ ${this.size}`);
    if (c.batchSize !== this.batchSize) bad.push(`batch size ${c.batchSize} ≠ ${this.batchSize}`);
    if (c.dropLast !== this.dropLast) bad.push(`dropLast ${c.dropLast} ≠ ${this.dropLast}`);
    if (
      !Number.isInteger(c.epoch) ||
      c.epoch < 0 ||
      !Number.isInteger(c.position) ||
      c.position < 0 ||
      c.position > this.size
    ) {
      bad.push(`epoch/position ${c.epoch}/${c.position} out of range`);
    }
    if (bad.length) throw new SamplerCursorError(`the saved cursor does not match (${bad.join('; ')})`);
  }

  private permutationOf(epoch: number): Uint32Array {
    return permutation(this.size, new Rng(this.seed, epoch));
  }

  /** The next batch of positions; crosses into the next epoch (new permutation) when this one is used up. */
  next(): number[] {
    const remaining = this.size - this.pos;
    if (remaining === 0 || (this.dropLast && remaining < this.batchSize)) {
      this.epochNo++;
      this.pos = 0;
      this.perm = this.permutationOf(this.epochNo);
    }
    const end = Math.min(this.size, this.pos + this.batchSize);
    const out = Array.from(this.perm.subarray(this.pos, end));
    this.pos = end;
    return out;
  }

  /** The current epoch (0-based). */
  get epoch(): number {
    return this.epochNo;
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return this.dropLast ? Math.floor(this.size / this.batchSize) : Math.ceil(this.size / this.batchSize);
  }

  /** A plain JSON-safe record of where the sampler stands. */
  cursor(): SamplerCursor {
    return {
      epoch: this.epochNo,
      position: this.pos,
      seed: this.seed,
      size: this.size,
      batchSize: this.batchSize,
      dropLast: this.dropLast,
    };
  }
}

/** Checks an untrusted value (e.g. from a checkpoint's JSON) is a SamplerCursor. */
export function parseSamplerCursor(v: unknown): SamplerCursor {
  const o = v as Record<string, unknown> | null;
  const ints = ['epoch', 'position', 'seed', 'size', 'batchSize'] as const;
  if (
    typeof o !== 'object' ||
    o === null ||
    !ints.every((k) => Number.isInteger(o[k])) ||
    typeof o['dropLast'] !== 'boolean'
  ) {
    throw new SamplerCursorError(`not a sampler cursor: ${JSON.stringify(v)}`);
  }
  return {
    epoch: o['epoch'] as number,
    position: o['position'] as number,
    seed: o['seed'] as number,
    size: o['size'] as number,
    batchSize: o['batchSize'] as number,
    dropLast: o['dropLast'],
  };
}
