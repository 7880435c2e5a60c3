// The ZeRO hint on disk: where the global_step* directory beside an adapter is.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { AdapterEmptyTensorError, AdapterPlaceholderError } from './errors.js';
import { placeholderErrorFor, zeroElementErrorFor } from './zero-hint.js';

/** The ZeRO global_step directory beside an adapter: the one `latest` names, else the highest. */
export async function findZeroCheckpointDir(dir: string): Promise<string | null> {
  try {
    const tag = (await readFile(join(dir, 'latest'), 'utf8')).trim();
    if (tag !== '' && tag === basename(tag) && (await stat(join(dir, tag))).isDirectory()) return join(dir, tag);
  } catch {
    // no usable `latest` file: fall back to scanning
  }
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  const steps = names
    .map((n) => /^global_step(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]));
  for (const m of steps) {
    if ((await stat(join(dir, m[0])).catch(() => null))?.isDirectory()) return join(dir, m[0]);
  }
  return null;
}

export async function placeholderError(dir: string, weightsPath: string): Promise<AdapterPlaceholderError> {
  return placeholderErrorFor(dir, weightsPath, (await stat(weightsPath)).size, await findZeroCheckpointDir(dir));
}

export async function zeroElementError(
  dir: string,
  weightsPath: string,
  names: string[],
): Promise<AdapterEmptyTensorError> {
  return zeroElementErrorFor(dir, weightsPath, names, await findZeroCheckpointDir(dir));
}
