// writePt: a torch.save-compatible zip file (torch.load(f, weights_only=True) loads it), written atomically.
import { randomBytes } from 'node:crypto';
import { basename } from 'node:path';
import { createAtomicFile } from '../fs/index.js';
import { PtWriteError } from './errors.js';
import { picklePt, type PtWritable } from './torch/pickler.js';
import { ZipStreamWriter } from './zip/writer.js';

export interface WritePtOptions {
  /** The archive's folder name inside the zip (torch uses the file name without extension). */
  archiveName?: string;
  /** Bytes per read/write chunk when streaming large storages (default 64 MiB). */
  chunkBytes?: number;
  /** @internal tests only: write zip64 records for entries/offsets at or above this many bytes. */
  zip64Threshold?: number;
}

function defaultArchiveName(path: string): string {
  const base = basename(path).replace(/\.[^.]*$/, '');
  return /^[A-Za-z0-9_.-]+$/.test(base) && base !== '.' && base !== '..' ? base : 'archive';
}

/**
 * Writes `value` (dicts, OrderedDicts (PickleDict with ordered), lists, tuples, numbers, bigints, strings, bytes,
 * None, bools, torch.Size, tensors) as torch.save does: zip format, data.pkl in pickle protocol 2, one 64-byte
 * aligned `data/<key>` record per storage, `version`, `byteorder`. Temp file + fsync + rename: the destination
 * is either the old file or the complete new one. Tensors sharing a storage (TorchTensor views from readPt)
 * keep sharing it.
 */
export async function writePt(path: string, value: PtWritable, options: WritePtOptions = {}): Promise<void> {
  const archive = options.archiveName ?? defaultArchiveName(path);
  if (!/^[A-Za-z0-9_.-]+$/.test(archive) || archive === '.' || archive === '..') {
    throw new PtWriteError(`archive name ${JSON.stringify(archive)} must be a plain folder name`);
  }
  const chunk = options.chunkBytes ?? 64 << 20;
  const { pickle, storages } = picklePt(value);
  const file = await createAtomicFile(path);
  try {
    const zip = new ZipStreamWriter(file, options.zip64Threshold);
    const text = (s: string): Uint8Array => new TextEncoder().encode(s);
    const small = async (name: string, data: Uint8Array): Promise<void> =>
      zip.addEntry(`${archive}/${name}`, data.byteLength, [data]);
    await small('data.pkl', pickle);
    await small('.format_version', text('1'));
    await small('.storage_alignment', text('64'));
    await small('byteorder', text('little'));
    for (const s of storages) {
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (let off = 0; off < s.nbytes; off += chunk) yield await s.read(off, Math.min(chunk, s.nbytes - off));
      }
      await zip.addEntry(`${archive}/data/${s.key}`, s.nbytes, chunks());
    }
    await small('version', text('3\n'));
    const id = BigInt(`0x${randomBytes(16).toString('hex')}`)
      .toString()
      .padStart(40, '0')
      .slice(0, 40);
    await small('.data/serialization_id', text(id));
    await zip.finish();
  } catch (err) {
    await file.abort();
    throw err;
  }
  await file.commit();
}
