// Named, independent random streams derived from one seed (data order, noise, time, dropout ...),
// each a Philox keyed by (seed, stream id). Their joint state is one JSON object.
import { fnv1a32 } from '@vla-lora/seeded-random';
import { RngStateError } from '../errors.js';
import { Philox, type PhiloxState } from './philox.js';

export const RNG_STREAMS = ['data', 'noise', 'time', 'dropout', 'init'] as const;
export type RngStreamName = (typeof RNG_STREAMS)[number];

/** FNV-1a of the stream name: a stable 32-bit stream id. */
const streamId = fnv1a32;

export interface RngStreamsState {
  seed: number;
  streams: Record<string, PhiloxState>;
}

export class RngStreams {
  private readonly map = new Map<string, Philox>();

  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff)
      throw new RangeError(`seed must be an integer in [0, 2^32), got ${seed}`);
  }

  /** The stream `name` (created on first use, keyed by (seed, name)). */
  get(name: RngStreamName | string): Philox {
    let p = this.map.get(name);
    if (!p) {
      p = new Philox(this.seed, streamId(name));
      this.map.set(name, p);
    }
    return p;
  }

  state(): RngStreamsState {
    const streams: Record<string, PhiloxState> = {};
    for (const [n, p] of [...this.map].sort(([a], [b]) => (a < b ? -1 : 1))) streams[n] = p.state();
    return { seed: this.seed, streams };
  }

  static fromState(state: unknown): RngStreams {
    const s = state as Partial<RngStreamsState> | null;
    if (!s || typeof s.seed !== 'number' || !s.streams || typeof s.streams !== 'object') {
      throw new RngStateError(`not an RNG streams state: ${JSON.stringify(state)?.slice(0, 200)}`);
    }
    const r = new RngStreams(s.seed);
    for (const [n, ps] of Object.entries(s.streams)) r.map.set(n, Philox.fromState(ps));
    return r;
  }
}
