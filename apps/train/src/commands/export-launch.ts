// vla-train export-launch: the launch spec for a PyTorch trainer, written atomically into one directory.
import { resolve } from 'node:path';
import { pathExists } from '@vla-lora/checkpoint-io';
import { UsageError } from '@vla-lora/cli-kit';
import { launchSpec } from '@vla-lora/gemma-config';
import { writeLaunchSpec } from '@vla-lora/pi0';
import type { ExportLaunchOptions } from '../args.js';

export async function exportLaunchCommand(
  o: { config: string } & ExportLaunchOptions,
  out: (s: string) => void,
): Promise<void> {
  const spec = launchSpec(o.config, o);
  const dir = resolve(o.out);
  if (!o.overwrite && (await pathExists(dir)))
    throw new UsageError(`${dir} already exists; pass --overwrite to replace it`);
  await writeLaunchSpec(spec, dir, { replace: o.overwrite });
  out([...spec.lines, `wrote ${dir}`].join('\n'));
}
