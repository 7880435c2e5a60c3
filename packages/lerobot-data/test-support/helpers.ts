// Test-only helpers: temp dirs and parquet surgery on generated episodes.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SchemaElement } from 'hyparquet';
import { parquetSchemaElements } from '../src/generator.js';

export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `vla-lerobot-${prefix}-`));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export type Row = Record<string, unknown>;

/** Reads all rows of a generated episode file (binary as bytes). */
export async function readRows(path: string): Promise<Row[]> {
  const buf = await readFile(path);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return (await parquetReadObjects({ file: ab, utf8: false })) as Row[];
}

/** Rewrites a generated episode file after `mutate` changed its rows; `drop` removes columns. */
export async function rewriteEpisode(path: string, mutate: (rows: Row[]) => void, drop: string[] = []): Promise<void> {
  const rows = await readRows(path);
  mutate(rows);
  const full = parquetSchemaElements();
  // rebuild the schema without dropped top-level columns
  const schema: SchemaElement[] = [];
  let i = 1;
  const kept: string[] = [];
  while (i < full.length) {
    const el = full[i]!;
    const span = 1 + countDescendants(full, i);
    if (!drop.includes(el.name)) {
      schema.push(...full.slice(i, i + span));
      kept.push(el.name);
    }
    i += span;
  }
  schema.unshift({ name: 'schema', num_children: kept.length });
  const buf = parquetWriteBuffer({
    columnData: kept.map((name) => ({ name, data: rows.map((r) => r[name]) })),
    schema,
  });
  await writeFile(path, new Uint8Array(buf));
}

function countDescendants(schema: SchemaElement[], i: number): number {
  let n = 0;
  for (let c = 0; c < (schema[i]!.num_children ?? 0); c++) n += 1 + countDescendants(schema, i + 1 + n);
  return n;
}
