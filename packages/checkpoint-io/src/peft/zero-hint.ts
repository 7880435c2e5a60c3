// The errors for adapters that hold nothing, with the DeepSpeed ZeRO recovery hint. No node: imports:
// where the ZeRO shards are is found by zero-hint-fs.ts on disk (or by the caller, e.g. in a dropped folder).
import { AdapterEmptyTensorError, AdapterPlaceholderError } from './errors.js';

export const ZERO_RECOVER_COMMAND = 'npx @vla-lora/zero-merge extract-adapter <ckpt-dir> <out-dir>';

/** The recovery hint; `zeroDir` is the global_step* directory beside the adapter, if one was found. */
export function zeroHint(dir: string, zeroDir: string | null): string {
  const where = zeroDir
    ? `the LoRA weights are probably in the DeepSpeed ZeRO shards in ${zeroDir}`
    : 'the LoRA weights are probably in DeepSpeed ZeRO shards (a global_step*/ directory of the training output; none is beside it)';
  return `${where}. Recover them with: ${ZERO_RECOVER_COMMAND.replace('<ckpt-dir>', zeroDir ? dir : '<ckpt-dir>')}`;
}

/** The error for a weights file of `size` bytes that holds no tensors (the ZeRO-3 placeholder). */
export function placeholderErrorFor(
  dir: string,
  weightsPath: string,
  size: number,
  zeroDir: string | null,
): AdapterPlaceholderError {
  return new AdapterPlaceholderError(
    dir,
    `${weightsPath} (${size} bytes) holds no tensors — the placeholder a trainer saves when DeepSpeed ZeRO (stage 3) partitions the weights; ${zeroHint(dir, zeroDir)}`,
    zeroDir,
  );
}

/** The error for zero-element tensors (ZeRO-3 partition placeholders saved as weights). */
export function zeroElementErrorFor(
  dir: string,
  weightsPath: string,
  names: string[],
  zeroDir: string | null,
): AdapterEmptyTensorError {
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
  return new AdapterEmptyTensorError(
    dir,
    `${weightsPath} has ${names.length} tensor(s) with zero elements (${shown}) — ZeRO-3 partition placeholders saved as weights; ${zeroHint(dir, zeroDir)}`,
    names,
  );
}

/** Picks the ZeRO checkpoint directory among entry names: the one `latest` names, else the highest global_step. */
export function pickZeroCheckpointDir(names: readonly string[], latest: string | null): string | null {
  if (latest !== null && latest !== '' && !latest.includes('/') && !latest.includes('\\') && names.includes(latest))
    return latest;
  const steps = names
    .map((n) => /^global_step(\d+)$/.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]));
  return steps[0]?.[0] ?? null;
}
