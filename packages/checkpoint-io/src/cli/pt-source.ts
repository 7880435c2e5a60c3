// torch .pt/.bin state dicts as a TensorSource (wired to the .pt reader once it is available).
import { CliUsageError } from './errors.js';
import type { TensorSource } from './source.js';

export async function openPtSource(path: string): Promise<TensorSource> {
  throw new CliUsageError(`${path}: reading torch files needs the .pt reader of this package, which is not built yet`);
}
