// Opening a DCP directory: parse .metadata, check that every referenced .distcp exists and holds every byte
// range, locate every chunk's tensor inside its torch.save blob and check that the chunks tile each tensor —
// all before a byte of tensor data is read or anything is written.
import { open, type FileHandle } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { TORCH_DTYPE_ITEMSIZE, type TorchDtype } from '@vla-lora/checkpoint-io';
import { locateChunk, type ChunkTensor } from './chunk.js';
import { DcpChunkError, DcpMetadataError, DcpMissingFileError } from './errors.js';
import { checkTiling, rowMajorRuns } from './layout.js';
import { readMetadata, type DcpBytesEntry, type DcpMetadata } from './metadata.js';

export interface DcpTensor {
  /** Flattened fqn as in .metadata (`model.model.embed_tokens.weight`, `optim.state.<param>.exp_avg`). */
  fqn: string;
  /** planner_data's key path (`["model", "model.embed_tokens.weight"]`); `[fqn]` when absent. */
  path: Array<string | number>;
  dtype: TorchDtype;
  shape: number[];
  numel: number;
  byteLength: number;
  /** The tensor's bytes in row-major order, little-endian, in pieces of at most `pieceBytes`. The yielded buffer
   * is reused: consume (write/copy) it before pulling the next. */
  chunks(pieceBytes?: number): AsyncGenerator<Uint8Array>;
}

export interface DcpCheckpoint {
  dir: string;
  metadata: DcpMetadata;
  tensors: DcpTensor[];
  /** Non-tensor entries (pickled Python values such as `step` or `optim.param_groups.0.lr`), not decoded. */
  bytesEntries: DcpBytesEntry[];
  /** The .distcp files, sorted. */
  files: string[];
  totalBytes: number;
  close(): Promise<void>;
}

const DEFAULT_PIECE = 4 << 20;

function safeRelative(dir: string, rel: string, metaFile: string): string {
  if (
    rel.length === 0 ||
    rel.includes('\0') ||
    rel.includes('\\') ||
    rel.startsWith('/') ||
    rel.split('/').includes('..')
  )
    throw new DcpMetadataError(
      `${metaFile}: storage file name ${JSON.stringify(rel)} leaves the checkpoint directory; refusing it`,
      metaFile,
    );
  const p = resolve(dir, rel);
  if (!p.startsWith(resolve(dir) + sep)) throw new DcpMetadataError(`${metaFile}: bad storage file ${rel}`, metaFile);
  return p;
}

/** Opens a DCP checkpoint directory; everything is validated here. Close it when done. */
export async function openDcpCheckpoint(dirIn: string): Promise<DcpCheckpoint> {
  const dir = resolve(dirIn);
  const metadata = await readMetadata(dir);
  const handles = new Map<string, { handle: FileHandle; size: number }>();
  const closeAll = async (): Promise<void> => {
    await Promise.all([...handles.values()].map((h) => h.handle.close()));
    handles.clear();
  };
  try {
    const rels = new Set<string>();
    for (const e of metadata.entries) {
      if (e.kind === 'bytes') rels.add(e.storage.relativePath);
      else for (const c of e.chunks) rels.add(c.storage.relativePath);
    }
    const files = [...rels].sort();
    const missing: string[] = [];
    for (const rel of files) {
      const p = safeRelative(dir, rel, metadata.file);
      try {
        const handle = await open(p, 'r');
        handles.set(rel, { handle, size: (await handle.stat()).size });
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') missing.push(p);
        else throw err;
      }
    }
    if (missing.length > 0)
      throw new DcpMissingFileError(
        `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing: .metadata references ${files.length} storage file(s) (one or more per rank); copy every __<rank>_<n>.distcp of the checkpoint`,
        missing[0] as string,
      );
    for (const e of metadata.entries) {
      if (e.kind !== 'bytes') continue;
      const h = handles.get(e.storage.relativePath) as { size: number };
      if (e.storage.offset + e.storage.length > h.size) {
        const p = join(dir, e.storage.relativePath);
        throw new DcpChunkError(
          `${p}: entry ${e.fqn} at bytes [${e.storage.offset}, ${e.storage.offset + e.storage.length}) but the file has ${h.size} bytes; it is truncated — copy it again`,
          p,
        );
      }
    }

    const tensors: DcpTensor[] = [];
    let totalBytes = 0;
    for (const e of metadata.entries) {
      if (e.kind !== 'tensor') continue;
      checkTiling(e.size, e.chunks, metadata.file, e.fqn);
      const located: Array<{ loc: ChunkTensor; handle: FileHandle; file: string }> = [];
      for (const [i, c] of e.chunks.entries()) {
        const h = handles.get(c.storage.relativePath) as { handle: FileHandle; size: number };
        const p = join(dir, c.storage.relativePath);
        const what = `${e.fqn}[${i}] @ ${JSON.stringify(c.offsets)}`;
        const loc = await locateChunk(h.handle, p, h.size, c.storage.offset, c.storage.length, what);
        if (loc.dtype !== e.dtype)
          throw new DcpChunkError(`${p}: chunk ${what} is ${loc.dtype} but .metadata says ${e.dtype}`, p);
        if (loc.shape.length !== c.sizes.length || loc.shape.some((d, j) => d !== c.sizes[j]))
          throw new DcpChunkError(
            `${p}: chunk ${what} has shape ${JSON.stringify(loc.shape)} but .metadata says ${JSON.stringify(c.sizes)}`,
            p,
          );
        located.push({ loc, handle: h.handle, file: p });
      }
      const itemsize = TORCH_DTYPE_ITEMSIZE[e.dtype];
      const numel = e.size.reduce((a, b) => a * b, 1);
      const size = e.size;
      const boxes = e.chunks;
      tensors.push({
        fqn: e.fqn,
        path: metadata.plannerPaths.get(e.fqn) ?? [e.fqn],
        dtype: e.dtype,
        shape: [...size],
        numel,
        byteLength: numel * itemsize,
        async *chunks(pieceBytes = DEFAULT_PIECE) {
          const piece = Math.max(itemsize, pieceBytes - (pieceBytes % itemsize));
          const buf = new Uint8Array(Math.min(piece, Math.max(numel * itemsize, 1)));
          let fill = 0;
          for (const run of rowMajorRuns(size, boxes)) {
            const src = located[run.chunk] as { loc: ChunkTensor; handle: FileHandle; file: string };
            let pos = src.loc.dataStart + run.start * itemsize;
            let left = run.count * itemsize;
            while (left > 0) {
              const n = Math.min(left, buf.length - fill);
              const { bytesRead } = await src.handle.read(buf, fill, n, pos);
              if (bytesRead === 0)
                throw new DcpChunkError(`${src.file}: file ends at byte ${pos}, inside ${e.fqn}`, src.file);
              fill += bytesRead;
              pos += bytesRead;
              left -= bytesRead;
              if (fill === buf.length) {
                yield buf;
                fill = 0;
              }
            }
          }
          if (fill > 0) yield buf.subarray(0, fill);
        },
      });
      totalBytes += numel * itemsize;
    }
    return {
      dir,
      metadata,
      tensors,
      bytesEntries: metadata.entries.filter((e): e is DcpBytesEntry => e.kind === 'bytes'),
      files,
      totalBytes,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
