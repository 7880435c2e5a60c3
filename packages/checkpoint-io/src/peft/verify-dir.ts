// verifyAdapter: the checks of verify.ts on an adapter directory.
import { readAdapterConfig } from './config-fs.js';
import { verifyAdapterWeights, type AdapterReport } from './verify.js';
import { openAdapterWeights } from './weights.js';
import { placeholderError, zeroElementError } from './zero-hint-fs.js';

/**
 * Checks an adapter directory and returns a report; throws the typed error of the first failed
 * check: placeholder / zero-element tensors (with the ZeRO hint), unpaired A/B, ranks that disagree
 * with r / rank_pattern, NaN/Inf, target modules with no weights. lora_B all zero is a warning.
 */
export async function verifyAdapter(dir: string): Promise<AdapterReport> {
  const config = await readAdapterConfig(dir);
  const weights = await openAdapterWeights(dir);
  return verifyAdapterWeights(dir, config, weights, {
    placeholder: (path) => placeholderError(dir, path),
    zeroElements: (path, names) => zeroElementError(dir, path, names),
  });
}
