// metrics.jsonl: one JSON object per optimizer step. On resume the file is rewritten from the
// checkpoint's history, so lines a killed run logged after its last checkpoint disappear and the
// curve continues exactly where the resumed state is.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic, type MetricRecord } from '@vla-lora/checkpoint-io';

export class MetricsFile {
  constructor(readonly path: string) {}

  /** Replaces the file with `history` (atomically). */
  async reset(history: readonly MetricRecord[]): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true });
    await writeFileAtomic(this.path, history.map((m) => `${JSON.stringify(m)}\n`).join(''));
  }

  async append(record: MetricRecord): Promise<void> {
    await appendFile(this.path, `${JSON.stringify(record)}\n`);
  }
}
