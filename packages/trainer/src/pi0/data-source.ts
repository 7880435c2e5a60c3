// The loop's data source for pi0: a seeded BatchSampler (lerobot-data) over a LiberoView, whose
// cursor is the checkpoint's data_cursor.
import type { JsonValue } from '@vla-lora/checkpoint-io';
import type { Pi0Config } from '@vla-lora/gemma-config';
import { BatchSampler, parseSamplerCursor, type LiberoView } from '@vla-lora/lerobot-data';
import type { Pi0Batch } from '@vla-lora/models';
import type { DataSource } from '../loop/index.js';
import { disposePi0Batch, toPi0Batch } from './batch.js';
import type { WordHashTokenizer } from './prompt-tokenizer.js';

export class Pi0DataSource implements DataSource<Pi0Batch> {
  private sampler: BatchSampler;

  constructor(
    private readonly view: LiberoView,
    private readonly cfg: Pi0Config,
    private readonly tokenizer: WordHashTokenizer,
    readonly batchSize: number,
    private readonly seed: number,
  ) {
    this.sampler = new BatchSampler({ size: view.length, batchSize, seed });
  }

  async next(): Promise<Pi0Batch> {
    const positions = this.sampler.next();
    return toPi0Batch(await this.view.batch(positions), this.cfg, this.tokenizer);
  }
  disposeBatch(b: Pi0Batch): void {
    disposePi0Batch(b);
  }
  cursor(): JsonValue {
    return { ...this.sampler.cursor() };
  }
  restore(cursor: JsonValue): void {
    this.sampler = new BatchSampler({ size: this.view.length, batchSize: this.batchSize, seed: this.seed, cursor: parseSamplerCursor(cursor) });
  }
  epoch(): number {
    const c = this.sampler.cursor();
    return c.epoch + c.position / c.size;
  }
}
