// Test helpers (not shipped): build pickle byte streams and torch-style zip files by hand.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ZipStreamWriter } from '../src/pt/zip/writer.js';

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Concatenates text (UTF-8), byte arrays and number lists. */
export const cat = (...parts: Array<Uint8Array | number[] | string>): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...enc(p)] : [...p])));

export function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** `zipFile(name, entries)` zips `entries` (name → bytes) into `dir/name` with our torch-style writer, without any name checks. */
export function zipper(dir: string): (name: string, entries: Array<[string, Uint8Array]>) => Promise<string> {
  return async (name, entries) => {
    const p = join(dir, name);
    const chunks: Uint8Array[] = [];
    const zip = new ZipStreamWriter({ write: async (b) => void chunks.push(b.slice()) });
    for (const [n, b] of entries) await zip.addEntry(n, b.byteLength, [b]);
    await zip.finish();
    writeFileSync(p, Buffer.concat(chunks));
    return p;
  };
}
