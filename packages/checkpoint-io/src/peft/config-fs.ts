// Reading and writing <dir>/adapter_config.json on disk.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';
import {
  ADAPTER_CONFIG_NAME,
  MAX_CONFIG_BYTES,
  parseAdapterConfig,
  serializeAdapterConfig,
  type PeftLoraConfig,
} from './config.js';
import { AdapterConfigError } from './errors.js';

/** Reads and validates `<dir>/adapter_config.json`. */
export async function readAdapterConfig(dir: string): Promise<PeftLoraConfig> {
  const path = join(dir, ADAPTER_CONFIG_NAME);
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_CONFIG_BYTES)
      throw new AdapterConfigError(dir, `${path} is ${size} bytes; an adapter config is a few KB — this is not one`);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AdapterConfigError(
        dir,
        `${dir} has no ${ADAPTER_CONFIG_NAME}: not a PEFT adapter directory (save one with savePeftAdapter or PEFT's save_pretrained)`,
      );
    }
    throw err;
  }
  return parseAdapterConfig(text, path, dir);
}

/** Writes `<dir>/adapter_config.json` atomically. */
export async function writeAdapterConfig(dir: string, config: PeftLoraConfig): Promise<void> {
  await writeFileAtomic(join(dir, ADAPTER_CONFIG_NAME), serializeAdapterConfig(config));
}
