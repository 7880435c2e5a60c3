// torch.save's zip format (torch ≥ 1.6): <archive>/data.pkl, <archive>/data/<key>, byteorder, version.
import type { FileHandle } from 'node:fs/promises';
import { PtFormatError } from './errors.js';
import { torchPersistentLoad } from './persistent.js';
import { PtFile } from './pt-file.js';
import type { TorchStorage } from './tensor.js';
import { torchCall } from './torch-globals.js';
import { unpickle, type UnpickleOptions } from './unpickler.js';
import { ZipArchive, type ZipEntryInfo } from './zip-archive.js';

export interface ReadPtOptions extends UnpickleOptions {
  /** Largest data.pkl accepted, in bytes (default 2 GiB − 1). */
  maxPickleBytes?: number;
}

export async function readZipPt(
  path: string,
  handle: FileHandle,
  fileSize: number,
  options: ReadPtOptions,
  close: () => Promise<void>,
): Promise<PtFile> {
  const archive = await ZipArchive.open(path, handle, fileSize);
  try {
    const first = archive.order[0];
    let prefix = first !== undefined && first.includes('/') ? first.slice(0, first.indexOf('/')) : undefined;
    if (prefix === undefined || !archive.entries.has(`${prefix}/data.pkl`)) {
      const pkl = archive.order.find((n) => /^[^/]+\/data\.pkl$/.test(n));
      if (pkl === undefined) {
        const jit = archive.order.some((n) => n.endsWith('/constants.pkl') || n.includes('/code/'));
        throw new PtFormatError(
          `${path}: zip archive has no <archive>/data.pkl, so it is not a torch.save file` +
            (jit ? ' (it looks like a TorchScript archive: load it with torch.jit.load and save the state_dict)' : ''),
        );
      }
      prefix = pkl.slice(0, pkl.indexOf('/'));
    }
    const record = (name: string): ZipEntryInfo | undefined => archive.entries.get(`${prefix}/${name}`);

    let byteorder: 'little' | 'big' = 'little';
    const bo = record('byteorder');
    if (bo) {
      const text = Buffer.from(await archive.readAll(bo, 16))
        .toString('latin1')
        .trim();
      if (text !== 'little' && text !== 'big')
        throw new PtFormatError(`${path}: byteorder record says ${JSON.stringify(text)}, expected "little" or "big"`);
      byteorder = text;
    }
    const ver = record('.data/version') ?? record('version');
    const version = ver
      ? Buffer.from(await archive.readAll(ver, 64))
          .toString('latin1')
          .trim()
      : null;

    const pklInfo = record('data.pkl') as ZipEntryInfo;
    const pkl = await archive.readAll(pklInfo, options.maxPickleBytes ?? 2 ** 31 - 1);
    const storages = new Map<string, TorchStorage>();
    const bigEndian = byteorder === 'big';
    const onStorage = (s: TorchStorage): void => {
      const rec = record(`data/${s.key}`);
      if (!rec) {
        throw new PtFormatError(
          `${path}: the pickle references storage ${s.key} but the archive has no ${prefix}/data/${s.key} record; the file is incomplete`,
        );
      }
      s.bind({
        byteLength: rec.uncompressedSize,
        bigEndian,
        read: (off, len, into) => archive.readRange(rec, off, len, into),
      });
    };
    // Like pickle.load, stop at STOP (bytes after it are ignored, as torch ignores them).
    const { value } = unpickle(
      pkl,
      { persistentLoad: torchPersistentLoad(path, 'zip', storages, onStorage), call: torchCall(path) },
      options,
    );
    return new PtFile({ path, format: 'zip', byteorder, archiveName: prefix, version }, value, storages, async () => {
      archive.close();
      await close();
    });
  } catch (err) {
    archive.close();
    throw err;
  }
}
