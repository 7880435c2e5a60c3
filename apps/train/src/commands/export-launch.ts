// vla-train export-launch: the launch spec for a PyTorch trainer, written atomically into one directory.
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathExists, withAtomicDir } from '@vla-lora/checkpoint-io';
import { launchSpec } from '@vla-lora/gemma-config';
import { UsageError } from '../errors.js';

export async function exportLaunchCommand(
  o: {
    config: string;
    engine: 'deepspeed' | 'torchrun';
    out: string;
    nprocPerNode: number;
    nnodes: number;
    zeroStage?: 0 | 1 | 2 | 3;
    microBatch?: number;
    gradAccum: number;
    gradientClipping: number;
    overwrite: boolean;
  },
  out: (s: string) => void,
): Promise<void> {
  const spec = launchSpec(o.config, {
    engine: o.engine,
    nprocPerNode: o.nprocPerNode,
    nnodes: o.nnodes,
    gradAccum: o.gradAccum,
    gradientClipping: o.gradientClipping,
    ...(o.zeroStage !== undefined ? { zeroStage: o.zeroStage } : {}),
    ...(o.microBatch !== undefined ? { microBatch: o.microBatch } : {}),
  });
  const dir = resolve(o.out);
  if (!o.overwrite && (await pathExists(dir)))
    throw new UsageError(`${dir} already exists; pass --overwrite to replace it`);
  await withAtomicDir(
    dir,
    async (tmp) => {
      for (const [name, text] of Object.entries(spec.files))
        await writeFile(join(tmp, name), text, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
    },
    { replace: o.overwrite },
  );
  out([...spec.lines, `wrote ${dir}`].join('\n'));
}
