// "Refuse an existing output unless --overwrite", as every converter CLI does it.
import { resolve } from 'node:path';
import { pathExists } from './stat.js';

/**
 * Resolves `output` to an absolute path and, unless `overwrite`, refuses a path where something exists:
 * throws `refuse(message)` (the caller's typed error), the message being
 * "<path> already exists; remove it or pass --overwrite".
 */
export async function freshOutputPath(
  output: string,
  overwrite: boolean | undefined,
  refuse: (message: string) => Error,
): Promise<string> {
  const out = resolve(output);
  if (!overwrite && (await pathExists(out))) throw refuse(`${out} already exists; remove it or pass --overwrite`);
  return out;
}
