// One entry point for a file, a directory, or an index.json.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SafetensorsError } from './errors.js';
import { SafetensorsFile, type SafetensorsReader } from './reader.js';
import { ShardedSafetensors } from './sharded.js';

/**
 * Resolves where the tensors are: a `.safetensors` file; a `*.safetensors.index.json`; or a
 * directory holding `model.safetensors.index.json`, `model.safetensors`, or exactly one index
 * or exactly one `.safetensors` file.
 */
export async function resolveSafetensorsPath(pathOrDir: string): Promise<{ kind: 'file' | 'sharded'; path: string }> {
  const st = await stat(pathOrDir);
  if (!st.isDirectory()) return { kind: pathOrDir.endsWith('.index.json') ? 'sharded' : 'file', path: pathOrDir };
  const names = await readdir(pathOrDir);
  if (names.includes('model.safetensors.index.json'))
    return { kind: 'sharded', path: join(pathOrDir, 'model.safetensors.index.json') };
  if (names.includes('model.safetensors')) return { kind: 'file', path: join(pathOrDir, 'model.safetensors') };
  const indexes = names.filter((n) => n.endsWith('.safetensors.index.json'));
  if (indexes.length === 1) return { kind: 'sharded', path: join(pathOrDir, indexes[0]!) };
  const files = names.filter((n) => n.endsWith('.safetensors'));
  if (indexes.length === 0 && files.length === 1) return { kind: 'file', path: join(pathOrDir, files[0]!) };
  throw new SafetensorsError(
    pathOrDir,
    files.length === 0 && indexes.length === 0
      ? 'directory holds no .safetensors file or index'
      : `directory holds ${files.length} .safetensors files and ${indexes.length} index files; name the one to open`,
  );
}

/** Opens a safetensors file, or a sharded set (directory or index.json), validating every header. */
export async function openSafetensors(pathOrDir: string): Promise<SafetensorsReader> {
  const { kind, path } = await resolveSafetensorsPath(pathOrDir);
  return kind === 'sharded' ? ShardedSafetensors.open(path) : SafetensorsFile.open(path);
}
