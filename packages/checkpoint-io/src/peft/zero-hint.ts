// The errors for adapters that hold nothing, with the DeepSpeed ZeRO recovery hint.
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AdapterEmptyTensorError, AdapterPlaceholderError } from './errors.js';

export const ZERO_RECOVER_COMMAND = 'npx @vla-lora/zero-merge extract-adapter <ckpt-dir> <out-dir>';

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

function hint(dir: string, zeroDir: string | null): string {
  const where = zeroDir
    ? `the LoRA weights are probably in the DeepSpeed ZeRO shards in ${zeroDir}`
    : 'the LoRA weights are probably in DeepSpeed ZeRO shards (a global_step*/ directory of the training output; none is beside it)';
  return `${where}. Recover them with: ${ZERO_RECOVER_COMMAND.replace('<ckpt-dir>', zeroDir ? dir : '<ckpt-dir>')}`;
}

export async function placeholderError(dir: string, weightsPath: string): Promise<AdapterPlaceholderError> {
  const zeroDir = await findZeroCheckpointDir(dir);
  const size = (await stat(weightsPath)).size;
  return new AdapterPlaceholderError(
    dir,
    `${weightsPath} (${size} bytes) holds no tensors — the placeholder a trainer saves when DeepSpeed ZeRO (stage 3) partitions the weights; ${hint(dir, zeroDir)}`,
    zeroDir,
  );
}

export async function zeroElementError(
  dir: string,
  weightsPath: string,
  names: string[],
): Promise<AdapterEmptyTensorError> {
  const zeroDir = await findZeroCheckpointDir(dir);
  const shown = names.slice(0, 3).join(', ') + (names.length > 3 ? ` and ${names.length - 3} more` : '');
  return new AdapterEmptyTensorError(
    dir,
    `${weightsPath} has ${names.length} tensor(s) with zero elements (${shown}) — ZeRO-3 partition placeholders saved as weights; ${hint(dir, zeroDir)}`,
    names,
  );
}
