// A family recipe's launch spec (gemma-config's launchSpec: DeepSpeed JSON or torchrun command, PEFT LoraConfig,
// trainable-parameter list, memory bill per rank) written as one directory, atomically; launch.sh executable.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withAtomicDir } from '@vla-lora/checkpoint-io';
import type { LaunchSpec } from '@vla-lora/gemma-config';

/**
 * Writes `spec.files` into `dir` (built in a temp sibling, then renamed into place; `.sh` files mode 0755, the rest
 * 0644). An existing `dir` is replaced with `replace`, else checkpoint-io's AtomicWriteError.
 */
export async function writeLaunchSpec(spec: LaunchSpec, dir: string, opts: { replace: boolean }): Promise<void> {
  await withAtomicDir(
    dir,
    async (tmp) => {
      for (const [name, text] of Object.entries(spec.files))
        await writeFile(join(tmp, name), text, { mode: name.endsWith('.sh') ? 0o755 : 0o644 });
    },
    { replace: opts.replace },
  );
}
