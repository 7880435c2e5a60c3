// torch.save's legacy format (torch < 1.6, or _use_new_zipfile_serialization=False): five pickles in a row —
// magic number, protocol version, sys_info, the object, the list of storage keys — then each storage as an
// int64 element count followed by its raw bytes, in the order of that list.
import type { FileHandle } from 'node:fs/promises';
import { PtClosedError, PtFormatError, PtTruncatedError } from './errors.js';
import { torchPersistentLoad, type LegacyView } from './persistent.js';
import { PtFile } from './pt-file.js';
import type { ReadPtOptions } from './read-zip.js';
import type { TorchStorage } from './tensor.js';
import { torchCall } from './torch-globals.js';
import { PickleTruncatedError, unpickle, type UnpickleHooks, type UnpickleResult } from './unpickler.js';
import { PickleDict, type PickleValue } from './values.js';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;
const INITIAL_WINDOW = 1 << 20;

async function preadExact(
  handle: FileHandle,
  position: number,
  length: number,
  path: string,
  into?: Uint8Array,
): Promise<Uint8Array> {
  // Unpooled and not zero-filled (every byte is overwritten below, or we throw); a plain Uint8Array view
  // of its own ArrayBuffer, so callers' `.slice()` copies and `.buffer` holds only this data.
  let out = into;
  if (out === undefined) {
    const raw = Buffer.allocUnsafeSlow(length);
    out = new Uint8Array(raw.buffer, raw.byteOffset, length);
  }
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, Math.min(length - done, 1 << 30), position + done);
    if (bytesRead === 0)
      throw new PtTruncatedError(`${path}: file ends at byte ${position + done}; the file is truncated`);
    done += bytesRead;
  }
  return out;
}

export async function readLegacyPt(
  path: string,
  handle: FileHandle,
  fileSize: number,
  options: ReadPtOptions,
  close: () => Promise<void>,
): Promise<PtFile> {
  // The pickles are read from a window of the file that grows (×4) until a pickle fits; storages are never read.
  let window = await preadExact(handle, 0, Math.min(fileSize, INITIAL_WINDOW), path);
  const parseAt = async (offset: number, makeHooks: () => UnpickleHooks, what: string): Promise<UnpickleResult> => {
    for (;;) {
      try {
        return unpickle(window, makeHooks(), options, offset);
      } catch (err) {
        if (!(err instanceof PickleTruncatedError)) throw err;
        if (window.length >= fileSize) {
          throw new PtTruncatedError(`${path}: the file ends inside the ${what} pickle; the file is truncated`, {
            cause: err,
          });
        }
        const limit = options.maxPickleBytes ?? 2 ** 31 - 1;
        if (window.length - offset >= limit)
          throw new PtFormatError(`${path}: the ${what} pickle is larger than maxPickleBytes (${limit})`);
        window = await preadExact(handle, 0, Math.min(fileSize, window.length * 4, offset + limit + 1), path);
      }
    }
  };
  const call = torchCall(path);

  const magic = await parseAt(0, () => ({ call }), 'magic number');
  const m = magic.value;
  if (!(typeof m === 'bigint' && m === MAGIC_NUMBER)) {
    throw new PtFormatError(
      `${path}: a pickle file, but not one written by torch.save (no torch magic number); if it is a plain pickle, load it with Python`,
    );
  }
  const proto = await parseAt(magic.end, () => ({ call }), 'protocol version');
  if (proto.value !== PROTOCOL_VERSION)
    throw new PtFormatError(
      `${path}: torch legacy protocol ${String(proto.value)} is not supported (expected ${PROTOCOL_VERSION})`,
    );
  const sysInfo = await parseAt(proto.end, () => ({ call }), 'sys_info');
  let bigEndian = false;
  if (sysInfo.value instanceof PickleDict) {
    const le = sysInfo.value.get('little_endian');
    if (le === false) bigEndian = true;
  } else {
    throw new PtFormatError(`${path}: torch legacy sys_info is not a dict; the file is corrupt`);
  }

  let storages = new Map<string, TorchStorage>();
  let views: LegacyView[] = [];
  const obj = await parseAt(
    sysInfo.end,
    () => {
      storages = new Map();
      views = [];
      return { persistentLoad: torchPersistentLoad(path, 'legacy', storages, () => undefined, views), call };
    },
    'object',
  );
  const keysRes = await parseAt(obj.end, () => ({ call }), 'storage keys');
  const keys: PickleValue = keysRes.value;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
    throw new PtFormatError(`${path}: the torch legacy storage key list is not a list of strings; the file is corrupt`);
  }

  let offset = keysRes.end;
  let closed = false;
  const seen = new Set<string>();
  for (const key of keys as string[]) {
    const s = storages.get(key);
    if (!s)
      throw new PtFormatError(`${path}: storage key ${key} is listed but no tensor references it; the file is corrupt`);
    if (seen.has(key)) throw new PtFormatError(`${path}: storage key ${key} is listed twice; the file is corrupt`);
    seen.add(key);
    if (offset + 8 > fileSize)
      throw new PtTruncatedError(`${path}: the file ends before storage ${key}; the file is truncated`);
    const head = await preadExact(handle, offset, 8, path);
    const count = new DataView(head.buffer).getBigInt64(0, !bigEndian);
    if (count !== BigInt(s.numel)) {
      throw new PtFormatError(
        `${path}: storage ${key} has ${count} elements in the file but ${s.numel} in the pickle; the file is corrupt`,
      );
    }
    const dataStart = offset + 8;
    if (dataStart + s.nbytes > fileSize) {
      throw new PtTruncatedError(
        `${path}: storage ${key} needs ${s.nbytes} bytes at ${dataStart} but the file has ${fileSize}; the file is truncated`,
      );
    }
    s.bind({
      byteLength: s.nbytes,
      bigEndian,
      read: (off, len, into) => {
        if (closed) return Promise.reject(new PtClosedError(`${path} was closed; read tensors before PtFile.close()`));
        return preadExact(handle, dataStart + off, len, path, into);
      },
    });
    offset = dataStart + s.nbytes;
  }
  // The window (up to the size of the pickles) is released here; only offsets are kept.
  window = new Uint8Array(0);
  return new PtFile(
    {
      path,
      format: 'legacy',
      byteorder: bigEndian ? 'big' : 'little',
      archiveName: null,
      version: `legacy-${PROTOCOL_VERSION}`,
    },
    obj.value,
    storages,
    async () => {
      closed = true;
      await close();
    },
  );
}
