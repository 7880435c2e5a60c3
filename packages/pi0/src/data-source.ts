// The loop's data source for pi0: a seeded BatchSampler (lerobot-data) over a LiberoView, whose
// cursor is the checkpoint's data_cursor.
import type { JsonValue } from '@vla-lora/checkpoint-io';
import type { Pi0Config } from '@vla-lora/gemma-config';
import {
  BatchSampler,
  collateLibero,
  parseSamplerCursor,
  type LiberoSample,
  type LiberoView,
} from '@vla-lora/lerobot-data';
import type { Pi0Batch } from '@vla-lora/models';
import type { DataSource } from '@vla-lora/trainer';
import { disposePi0Batch, toPi0Batch } from './batch.js';
import type { PromptTokenizer } from './prompt-tokenizer.js';

/** Decoded samples are kept when the whole view fits in this many bytes (the demo's ~20 MB does). */
const CACHE_LIMIT_BYTES = 512 * 1024 * 1024;

export class Pi0DataSource implements DataSource<Pi0Batch> {
  private sampler: BatchSampler;
  private readonly cache = new Map<number, LiberoSample>();
  private cacheBudget: number | null = null;

  constructor(
    private readonly view: LiberoView,
    private readonly cfg: Pi0Config,
    private readonly tokenizer: PromptTokenizer,
    readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.sampler = new BatchSampler({ size: view.length, batchSize, seed });
  }

  async next(): Promise<Pi0Batch> {
    const positions = this.sampler.next();
    const samples: LiberoSample[] = [];
    for (const p of positions) {
      let s = this.cache.get(p);
      if (!s) {
        s = await this.view.sample(p);
        if (this.cacheBudget === null) {
          const bytes =
            s.state.byteLength +
            s.actions.byteLength +
            Object.values(s.images).reduce((a, im) => a + im.data.byteLength, 0) +
            256;
          this.cacheBudget = bytes * this.view.length <= CACHE_LIMIT_BYTES ? this.view.length : 0;
        }
        if (this.cacheBudget > 0) this.cache.set(p, s);
      }
      samples.push(s);
    }
    return toPi0Batch(collateLibero(samples), this.cfg, this.tokenizer);
  }
  disposeBatch(b: Pi0Batch): void {
    disposePi0Batch(b);
  }
  cursor(): JsonValue {
    return { ...this.sampler.cursor() };
  }
  restore(cursor: JsonValue): void {
    this.sampler = new BatchSampler({
      size: this.view.length,
      batchSize: this.batchSize,
      seed: this.seed,
      cursor: parseSamplerCursor(cursor),
    });
  }
  epoch(): number {
    const c = this.sampler.cursor();
    return c.epoch + c.position / c.size;
  }
}
