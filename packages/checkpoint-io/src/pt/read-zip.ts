// torch.save's zip format (torch ≥ 1.6): <archive>/data.pkl, <archive>/data/<key>, byteorder, version.
import { latin1Decode } from './bytes.js';
import { PtFormatError } from './errors.js';
import { unpickle, type UnpickleOptions } from './pickle/unpickler.js';
import type { PickleValue } from './pickle/values.js';
import { PtFile } from './pt-file.js';
import { GlobalsAudit, type GlobalsPolicy, refuseUnsafeGlobals } from './torch/allowlist.js';
import { torchCall } from './torch/globals.js';
import { torchPersistentLoad } from './torch/persistent.js';
import type { TorchStorage } from './torch/storage.js';
import type { ZipEntryLike as ZipEntryInfo, ZipReader } from './zip/source-archive.js';

export interface ReadPtOptions extends UnpickleOptions, GlobalsPolicy {
  /** Largest data.pkl accepted, in bytes (default 2 GiB − 1). */
  maxPickleBytes?: number;
}

/** The archive's folder name: the first entry's folder when it holds data.pkl, else any folder that does. */
function archivePrefix(path: string, archive: ZipReader): string {
  const first = archive.order[0];
  const prefix = first !== undefined && first.includes('/') ? first.slice(0, first.indexOf('/')) : undefined;
  if (prefix !== undefined && archive.entries.has(`${prefix}/data.pkl`)) return prefix;
  const pkl = archive.order.find((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl === undefined) {
    const jit = archive.order.some((n) => n.endsWith('/constants.pkl') || n.includes('/code/'));
    throw new PtFormatError(
      `${path}: zip archive has no <archive>/data.pkl, so it is not a torch.save file` +
        (jit ? ' (it looks like a TorchScript archive: load it with torch.jit.load and save the state_dict)' : ''),
    );
  }
  return pkl.slice(0, pkl.indexOf('/'));
}

/** The `byteorder` record ("little" when absent, as torch < 1.10 wrote none). */
async function readByteorder(
  path: string,
  archive: ZipReader,
  rec: ZipEntryInfo | undefined,
): Promise<'little' | 'big'> {
  if (!rec) return 'little';
  const text = latin1Decode(await archive.readAll(rec, 16)).trim();
  if (text !== 'little' && text !== 'big')
    throw new PtFormatError(`${path}: byteorder record says ${JSON.stringify(text)}, expected "little" or "big"`);
  return text;
}

/** Binds each storage the pickle names to its `data/<key>` record. */
function storageBinder(
  path: string,
  archive: ZipReader,
  prefix: string,
  bigEndian: boolean,
): (s: TorchStorage) => void {
  return (s) => {
    const rec = archive.entries.get(`${prefix}/data/${s.key}`);
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
}

/** Reads an opened torch zip archive (ZipArchive on a file, SourceZipArchive on a Blob/URL); closes it on failure. */
export async function readZipPt(
  path: string,
  archive: ZipReader,
  options: ReadPtOptions,
  close: () => Promise<void>,
): Promise<PtFile> {
  try {
    const prefix = archivePrefix(path, archive);
    const record = (name: string): ZipEntryInfo | undefined => archive.entries.get(`${prefix}/${name}`);
    const byteorder = await readByteorder(path, archive, record('byteorder'));
    const ver = record('.data/version') ?? record('version');
    const version = ver ? latin1Decode(await archive.readAll(ver, 64)).trim() : null;
    const pkl = await archive.readAll(record('data.pkl') as ZipEntryInfo, options.maxPickleBytes ?? 2 ** 31 - 1);
    const storages = new Map<string, TorchStorage>();
    const onStorage = storageBinder(path, archive, prefix, byteorder === 'big');
    const audit = new GlobalsAudit(options.allowGlobals);
    const hooks = {
      persistentLoad: torchPersistentLoad(path, 'zip', storages, onStorage),
      call: torchCall(path, audit),
      onGlobal: audit.onGlobal,
    };
    let value: PickleValue;
    try {
      // Like pickle.load, stop at STOP (bytes after it are ignored, as torch ignores them).
      audit.beginPickle();
      value = unpickle(pkl, hooks, options).value;
      audit.endPickle();
    } catch (err) {
      refuseUnsafeGlobals(path, audit, options, err);
      throw err;
    }
    refuseUnsafeGlobals(path, audit, options);
    const info = { path, format: 'zip' as const, byteorder, archiveName: prefix, version };
    return new PtFile(
      info,
      value,
      storages,
      async () => {
        archive.close();
        await close();
      },
      audit.uses,
    );
  } catch (err) {
    archive.close();
    throw err;
  }
}
