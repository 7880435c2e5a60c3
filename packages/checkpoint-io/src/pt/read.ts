// readPt: open a torch.save file (zip or legacy) without executing anything.
import { open } from 'node:fs/promises';
import type { PtFile } from './pt-file.js';
import { readPtFrom } from './read-source.js';
import type { ReadPtOptions } from './read-zip.js';
import { ZipArchive } from './zip/archive.js';

/**
 * Opens a PyTorch checkpoint (`torch.save` output: `.pt`, `.pth`, `.bin`, `.ckpt`) in either the zip format or the
 * legacy format. The pickle is interpreted by a VM that never calls anything: known torch globals become
 * TorchTensor / TorchSize / PickleDict values, every other global an inert PickleObject. Tensor bytes stay on disk
 * until read. Close the returned file when done.
 */
export async function readPt(path: string, options: ReadPtOptions = {}): Promise<PtFile> {
  const handle = await open(path, 'r');
  let handed = false;
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= handle.close()); // idempotent
  try {
    const { size } = await handle.stat();
    const file = await readPtFrom(path, handle, size, options, close, () => ZipArchive.open(path, handle, size));
    handed = true;
    return file;
  } finally {
    if (!handed) await handle.close();
  }
}
