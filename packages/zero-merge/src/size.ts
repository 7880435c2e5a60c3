// "5GB", "500MB", "2GiB", "1048576": sizes as huggingface_hub's convert_file_size_to_int reads them
// (decimal KB/MB/GB, binary KiB/MiB/GiB), plus plain byte counts.
import { ZeroMergeUsageError } from './errors.js';

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 2 ** 10,
  mib: 2 ** 20,
  gib: 2 ** 30,
  tib: 2 ** 40,
};

export function parseSize(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(s);
  const unit = m ? UNITS[(m[2] || 'b').toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new ZeroMergeUsageError(
      `cannot read size ${JSON.stringify(s)}; write e.g. 5GB, 500MB, 2GiB or a number of bytes`,
    );
  const n = Math.floor(Number(m[1]) * unit);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new ZeroMergeUsageError(`size ${JSON.stringify(s)} must be a positive number of bytes`);
  return n;
}
