// readPt: open a torch.save file (zip or legacy) without executing anything.
import { open } from 'node:fs/promises';
import { PtFormatError, PtTruncatedError } from './errors.js';
import type { PtFile } from './pt-file.js';
import { readLegacyPt } from './read-legacy.js';
import { readZipPt, type ReadPtOptions } from './read-zip.js';

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
    if (size < 4)
      throw new PtTruncatedError(
        `${path}: ${size} bytes is too small to be a PyTorch checkpoint; the file is truncated or empty`,
      );
    const head = new Uint8Array(4);
    await handle.read(head, 0, 4, 0);
    let file: PtFile;
    if (
      head[0] === 0x50 &&
      head[1] === 0x4b &&
      ((head[2] === 3 && head[3] === 4) || (head[2] === 5 && head[3] === 6))
    ) {
      file = await readZipPt(path, handle, size, options, close);
    } else if (head[0] === 0x80 && (head[1] as number) <= 5) {
      file = await readLegacyPt(path, handle, size, options, close);
    } else {
      let hint = '';
      if (size > 262) {
        const tar = new Uint8Array(5);
        await handle.read(tar, 0, 5, 257);
        if (Buffer.from(tar).toString('latin1') === 'ustar')
          hint = ' (it is a tar file: torch < 0.4 checkpoints are not supported; re-save with a newer torch)';
      }
      if (head[0] === 0x7b) hint = ' (it starts with "{": a JSON file?)';
      throw new PtFormatError(`${path}: not a PyTorch checkpoint: neither a zip archive nor a pickle stream${hint}`);
    }
    handed = true;
    return file;
  } finally {
    if (!handed) await handle.close();
  }
}
