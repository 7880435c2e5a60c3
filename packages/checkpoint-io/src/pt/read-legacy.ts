// torch.save's legacy format (torch < 1.6, or _use_new_zipfile_serialization=False): five pickles in a row —
// magic number, protocol version, sys_info, the object, the list of storage keys — then each storage as an
// int64 element count followed by its raw bytes, in the order of that list.
import { allocUnfilled, type PreadHandle } from './bytes.js';
import { PickleTruncatedError, PtClosedError, PtFormatError, PtTruncatedError } from './errors.js';
import { unpickle, type UnpickleHooks, type UnpickleResult } from './pickle/unpickler.js';
import { PickleDict, type PickleValue } from './pickle/values.js';
import { PtFile } from './pt-file.js';
import type { ReadPtOptions } from './read-zip.js';
import { GlobalsAudit, refuseUnsafeGlobals } from './torch/allowlist.js';
import { torchCall } from './torch/globals.js';
import { torchPersistentLoad, type LegacyView } from './torch/persistent.js';
import type { TorchStorage } from './torch/storage.js';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;
const INITIAL_WINDOW = 1 << 20;

async function preadExact(
  handle: PreadHandle,
  position: number,
  length: number,
  path: string,
  into?: Uint8Array,
): Promise<Uint8Array> {
  // Unpooled and not zero-filled (every byte is overwritten below, or we throw); a plain Uint8Array view
  // of its own ArrayBuffer, so callers' `.slice()` copies and `.buffer` holds only this data.
  const out = into ?? allocUnfilled(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(out, done, Math.min(length - done, 1 << 30), position + done);
    if (bytesRead === 0)
      throw new PtTruncatedError(`${path}: file ends at byte ${position + done}; the file is truncated`);
    done += bytesRead;
  }
  return out;
}

/** The file's first bytes, grown (×4) until the pickle being parsed fits; storages are never read into it. */
class PickleWindow {
  bytes: Uint8Array = new Uint8Array(0);

  constructor(
    readonly path: string,
    readonly handle: PreadHandle,
    readonly fileSize: number,
    readonly options: ReadPtOptions,
    readonly audit: GlobalsAudit,
  ) {}

  async load(): Promise<void> {
    this.bytes = await preadExact(this.handle, 0, Math.min(this.fileSize, INITIAL_WINDOW), this.path);
  }

  /** Parses the pickle at `offset`, reading more of the file while it is cut off by the window. */
  async parseAt(offset: number, makeHooks: () => UnpickleHooks, what: string): Promise<UnpickleResult> {
    for (;;) {
      try {
        this.audit.beginPickle();
        const hooks = { ...makeHooks(), onGlobal: this.audit.onGlobal };
        const result = unpickle(this.bytes, hooks, this.options, offset);
        this.audit.endPickle();
        return result;
      } catch (err) {
        if (!(err instanceof PickleTruncatedError)) throw err;
        await this.#grow(offset, what, err);
      }
    }
  }

  async #grow(offset: number, what: string, err: PickleTruncatedError): Promise<void> {
    const { path, fileSize } = this;
    if (this.bytes.length >= fileSize) {
      throw new PtTruncatedError(`${path}: the file ends inside the ${what} pickle; the file is truncated`, {
        cause: err,
      });
    }
    const limit = this.options.maxPickleBytes ?? 2 ** 31 - 1;
    if (this.bytes.length - offset >= limit)
      throw new PtFormatError(`${path}: the ${what} pickle is larger than maxPickleBytes (${limit})`);
    this.bytes = await preadExact(this.handle, 0, Math.min(fileSize, this.bytes.length * 4, offset + limit + 1), path);
  }
}

/** Magic number, protocol version and sys_info: returns where the object pickle starts and the byte order. */
async function readHeader(
  win: PickleWindow,
  call: UnpickleHooks['call'],
): Promise<{ end: number; bigEndian: boolean }> {
  const path = win.path;
  const magic = await win.parseAt(0, () => ({ call }), 'magic number');
  const m = magic.value;
  if (!(typeof m === 'bigint' && m === MAGIC_NUMBER)) {
    throw new PtFormatError(
      `${path}: a pickle file, but not one written by torch.save (no torch magic number); if it is a plain pickle, load it with Python`,
    );
  }
  const proto = await win.parseAt(magic.end, () => ({ call }), 'protocol version');
  if (proto.value !== PROTOCOL_VERSION)
    throw new PtFormatError(
      `${path}: torch legacy protocol ${String(proto.value)} is not supported (expected ${PROTOCOL_VERSION})`,
    );
  const sysInfo = await win.parseAt(proto.end, () => ({ call }), 'sys_info');
  if (!(sysInfo.value instanceof PickleDict))
    throw new PtFormatError(`${path}: torch legacy sys_info is not a dict; the file is corrupt`);
  return { end: sysInfo.end, bigEndian: sysInfo.value.get('little_endian') === false };
}

interface LegacyStorages {
  /** Offset of the first storage record. */
  offset: number;
  keys: string[];
  storages: Map<string, TorchStorage>;
}

/** Binds each listed storage to its `int64 count + bytes` record, checking counts and bounds. */
async function bindStorages(
  path: string,
  handle: PreadHandle,
  fileSize: number,
  bigEndian: boolean,
  s: LegacyStorages,
  isClosed: () => boolean,
): Promise<void> {
  let offset = s.offset;
  const seen = new Set<string>();
  for (const key of s.keys) {
    const st = s.storages.get(key);
    if (!st)
      throw new PtFormatError(`${path}: storage key ${key} is listed but no tensor references it; the file is corrupt`);
    if (seen.has(key)) throw new PtFormatError(`${path}: storage key ${key} is listed twice; the file is corrupt`);
    seen.add(key);
    if (offset + 8 > fileSize)
      throw new PtTruncatedError(`${path}: the file ends before storage ${key}; the file is truncated`);
    const head = await preadExact(handle, offset, 8, path);
    const count = new DataView(head.buffer).getBigInt64(0, !bigEndian);
    if (count !== BigInt(st.numel)) {
      throw new PtFormatError(
        `${path}: storage ${key} has ${count} elements in the file but ${st.numel} in the pickle; the file is corrupt`,
      );
    }
    const dataStart = offset + 8;
    if (dataStart + st.nbytes > fileSize) {
      throw new PtTruncatedError(
        `${path}: storage ${key} needs ${st.nbytes} bytes at ${dataStart} but the file has ${fileSize}; the file is truncated`,
      );
    }
    st.bind({
      byteLength: st.nbytes,
      bigEndian,
      read: (off, len, into) => {
        if (isClosed())
          return Promise.reject(new PtClosedError(`${path} was closed; read tensors before PtFile.close()`));
        return preadExact(handle, dataStart + off, len, path, into);
      },
    });
    offset = dataStart + st.nbytes;
  }
}

/** The object pickle and the storage key list after the header; storages are collected as the pickle names them. */
async function readObject(
  win: PickleWindow,
  start: number,
  call: UnpickleHooks['call'],
): Promise<{ value: PickleValue; storages: Map<string, TorchStorage>; keys: string[]; end: number }> {
  const path = win.path;
  let storages = new Map<string, TorchStorage>();
  let views: LegacyView[] = [];
  const obj = await win.parseAt(
    start,
    () => {
      storages = new Map();
      views = [];
      return { persistentLoad: torchPersistentLoad(path, 'legacy', storages, () => undefined, views), call };
    },
    'object',
  );
  const keysRes = await win.parseAt(obj.end, () => ({ call }), 'storage keys');
  const keys: PickleValue = keysRes.value;
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
    throw new PtFormatError(`${path}: the torch legacy storage key list is not a list of strings; the file is corrupt`);
  }
  return { value: obj.value, storages, keys: keys as string[], end: keysRes.end };
}

export async function readLegacyPt(
  path: string,
  handle: PreadHandle,
  fileSize: number,
  options: ReadPtOptions,
  close: () => Promise<void>,
): Promise<PtFile> {
  const audit = new GlobalsAudit(options.allowGlobals);
  const win = new PickleWindow(path, handle, fileSize, options, audit);
  await win.load();
  const call = torchCall(path, audit);
  let header: { end: number; bigEndian: boolean };
  let obj: Awaited<ReturnType<typeof readObject>>;
  try {
    header = await readHeader(win, call);
    obj = await readObject(win, header.end, call);
  } catch (err) {
    refuseUnsafeGlobals(path, audit, options, err);
    throw err;
  }
  refuseUnsafeGlobals(path, audit, options);
  let closed = false;
  const { bigEndian } = header;
  const { storages } = obj;
  await bindStorages(path, handle, fileSize, bigEndian, { offset: obj.end, keys: obj.keys, storages }, () => closed);
  // The window (up to the size of the pickles) is released here; only offsets are kept.
  win.bytes = new Uint8Array(0);
  const info = {
    path,
    format: 'legacy' as const,
    byteorder: bigEndian ? ('big' as const) : ('little' as const),
    archiveName: null,
    version: `legacy-${PROTOCOL_VERSION}`,
  };
  const closer = async (): Promise<void> => {
    closed = true;
    await close();
  };
  return new PtFile(info, obj.value, storages, closer, audit.uses);
}
