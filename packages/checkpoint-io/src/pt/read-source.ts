// Reading torch.save files through positioned reads: readPt (read.ts) on a local file, readPtSource on any
// ByteSource (a Blob/File in a browser, a URL with Range requests). No node: imports.
import type { ByteSource } from '../source/byte-source.js';
import { latin1Decode, type PreadHandle } from './bytes.js';
import { PtFormatError, PtTruncatedError } from './errors.js';
import type { PtFile } from './pt-file.js';
import { readLegacyPt } from './read-legacy.js';
import { readZipPt, type ReadPtOptions } from './read-zip.js';
import { SourceZipArchive, type ZipReader } from './zip/source-archive.js';

/** Detects the format (zip or legacy pickle stream) and reads it; `openZip` opens the archive for the zip format. */
export async function readPtFrom(
  path: string,
  handle: PreadHandle,
  size: number,
  options: ReadPtOptions,
  close: () => Promise<void>,
  openZip: () => Promise<ZipReader>,
): Promise<PtFile> {
  if (size < 4)
    throw new PtTruncatedError(
      `${path}: ${size} bytes is too small to be a PyTorch checkpoint; the file is truncated or empty`,
    );
  const head = new Uint8Array(4);
  await handle.read(head, 0, 4, 0);
  if (head[0] === 0x50 && head[1] === 0x4b && ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6)))
    return readZipPt(path, await openZip(), options, close);
  if (head[0] === 0x80 && (head[1] as number) <= 5) return readLegacyPt(path, handle, size, options, close);
  let hint = '';
  if (size > 262) {
    const tar = new Uint8Array(5);
    await handle.read(tar, 0, 5, 257);
    if (latin1Decode(tar) === 'ustar')
      hint = ' (it is a tar file: torch < 0.4 checkpoints are not supported; re-save with a newer torch)';
  }
  if (head[0] === 0x7b) hint = ' (it starts with "{": a JSON file?)';
  throw new PtFormatError(`${path}: not a PyTorch checkpoint: neither a zip archive nor a pickle stream${hint}`);
}

/** Positioned reads over a ByteSource (short only at the end of the source, as a file's are). */
export function sourceHandle(source: ByteSource): PreadHandle {
  return {
    async read(buffer, offset, length, position) {
      const n = Math.max(0, Math.min(length, source.size - position));
      if (n === 0) return { bytesRead: 0 };
      buffer.set(await source.read(position, n), offset);
      return { bytesRead: n };
    },
  };
}

/**
 * readPt on any ByteSource: `readPtSource(blobSource(file))` in a browser. Same checks and safety (nothing
 * executes; non-allowlisted globals refused as readPt does); tensor bytes are read only when asked for.
 */
export async function readPtSource(source: ByteSource, options: ReadPtOptions = {}): Promise<PtFile> {
  let handed = false;
  try {
    const file = await readPtFrom(
      source.name,
      sourceHandle(source),
      source.size,
      options,
      () => source.close(),
      () => SourceZipArchive.open(source),
    );
    handed = true;
    return file;
  } finally {
    if (!handed) await source.close();
  }
}
