// One tensor chunk of a `.distcp` file: bytes [offset, offset+length) hold a torch.save zip archive of one
// CPU tensor (FileSystemWriter._write_item). We parse its zip directory (checkpoint-io's SourceZipArchive, on a
// ByteSource confined to that byte range) and its data.pkl (checkpoint-io's pickle VM, with a call hook that accepts only the tensor
// rebuild functions) and return where the tensor's bytes lie in the .distcp file. No tensor data is read here.
import type { FileHandle } from 'node:fs/promises';
import {
  type ByteSource,
  isTorchDtype,
  PickleDict,
  PickleGlobal,
  PickleTuple,
  PtError,
  SourceZipArchive,
  type SourceZipEntry,
  TORCH_DTYPE_ITEMSIZE,
  TorchSize,
  TorchStorage,
  TorchTensor,
  unpickle,
  type PickleValue,
  type TorchDtype,
} from '@vla-lora/checkpoint-io';
import { DcpChunkError, DcpUnsupportedTransformError } from './errors.js';

/** Legacy storage classes torch.save pickles for each dtype (torch/storage.py). */
const STORAGE_DTYPE: Readonly<Record<string, TorchDtype>> = {
  DoubleStorage: 'float64',
  FloatStorage: 'float32',
  HalfStorage: 'float16',
  BFloat16Storage: 'bfloat16',
  LongStorage: 'int64',
  IntStorage: 'int32',
  ShortStorage: 'int16',
  CharStorage: 'int8',
  ByteStorage: 'uint8',
  BoolStorage: 'bool',
  ComplexFloatStorage: 'complex64',
  ComplexDoubleStorage: 'complex128',
  UntypedStorage: 'uint8',
};

/** Where one chunk's tensor lies in its .distcp file. */
export interface ChunkTensor {
  dtype: TorchDtype;
  shape: number[];
  /** Absolute file offset of element 0 of the (row-major contiguous) tensor. */
  dataStart: number;
  byteLength: number;
}

async function readExact(handle: FileHandle, pos: number, n: number, file: string): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let done = 0;
  while (done < n) {
    const { bytesRead } = await handle.read(out, done, n - done, pos + done);
    if (bytesRead === 0) throw new DcpChunkError(`${file}: file ends at byte ${pos + done}, inside a chunk`, file);
    done += bytesRead;
  }
  return out;
}

/** Bytes [base, base + size) of the open file as a ByteSource (the zip reader sees the chunk as a whole file). */
function rangeSource(handle: FileHandle, file: string, base: number, size: number): ByteSource {
  return {
    name: file,
    size,
    read: (pos, n) => readExact(handle, base + pos, n, file),
    close: async () => {},
  };
}

function intsOf(v: PickleValue | undefined): number[] | undefined {
  const items = v instanceof TorchSize ? v.dims : v instanceof PickleTuple ? v.items : Array.isArray(v) ? v : undefined;
  if (!items?.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) return undefined;
  return items as number[];
}

/**
 * Locates the tensor of chunk `what` stored at [offset, offset+length) of `file` (open as `handle`, `fileSize`
 * bytes). Throws DcpChunkError when the range runs past the file or the blob is not a torch.save'd tensor.
 */
export async function locateChunk(
  handle: FileHandle,
  file: string,
  fileSize: number,
  offset: number,
  length: number,
  what: string,
): Promise<ChunkTensor> {
  const bad = (why: string, cause?: unknown): never => {
    throw new DcpChunkError(
      `${file}: chunk ${what} at bytes [${offset}, ${offset + length}): ${why}`,
      file,
      cause === undefined ? undefined : { cause },
    );
  };
  if (offset + length > fileSize)
    bad(`the file has only ${fileSize} bytes; it is truncated — copy the checkpoint again (every rank's .distcp)`);
  if (length < 22) bad('too short to be a torch.save archive; the file is damaged');
  const head = await readExact(handle, offset, 4, file);
  if (!(head[0] === 0x50 && head[1] === 0x4b && head[2] === 3 && head[3] === 4)) {
    if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd)
      throw new DcpUnsupportedTransformError(
        `${file}: chunk ${what} is zstd-compressed (a DCP stream-transform extension); dcp-merge reads untransformed chunks only`,
        file,
      );
    bad(
      'it is not a torch.save zip archive (checkpoints written with serialization_format=SAFETENSORS are not supported); the file is damaged or of another format',
    );
  }
  let zip: SourceZipArchive;
  try {
    zip = await SourceZipArchive.open(rangeSource(handle, file, offset, length));
  } catch (err) {
    if (err instanceof DcpChunkError || !(err instanceof PtError)) throw err;
    return bad(`not a readable zip archive (${(err as Error).message}); the chunk is truncated or damaged`, err);
  }
  try {
    const entries = zip.entries;
    for (const e of entries.values())
      if (e.compressionMethod !== 0)
        bad(`zip entry ${e.name} is compressed (method ${e.compressionMethod}); torch.save stores entries`);
    const pklName = [...entries.keys()].find((n) => /^[^/]+\/data\.pkl$/.test(n));
    if (pklName === undefined) return bad('the archive has no <archive>/data.pkl');
    const prefix = pklName.slice(0, pklName.indexOf('/'));
    const start = async (e: SourceZipEntry): Promise<number> => {
      let fileDataStart: number;
      try {
        fileDataStart = await zip.dataStart(e);
      } catch (err) {
        if (err instanceof DcpChunkError || !(err instanceof PtError)) throw err;
        return bad(`zip entry ${e.name}: ${(err as Error).message}`, err);
      }
      if (fileDataStart + e.compressedSize > length) bad(`zip entry ${e.name} runs past the chunk`);
      return offset + fileDataStart;
    };
    const bo = entries.get(`${prefix}/byteorder`);
    if (bo) {
      const text = Buffer.from(await readExact(handle, await start(bo), Math.min(bo.compressedSize, 16), file))
        .toString('latin1')
        .trim();
      if (text !== 'little') bad(`byteorder is ${JSON.stringify(text)}; only little-endian checkpoints are supported`);
    }
    const pklEntry = entries.get(pklName) as SourceZipEntry;
    if (pklEntry.compressedSize > 1 << 20) bad(`data.pkl is ${pklEntry.compressedSize} bytes; one tensor needs < 1 KB`);
    const pkl = await readExact(handle, await start(pklEntry), pklEntry.compressedSize, file);

    let storage: TorchStorage | undefined;
    const persistentLoad = (pid: PickleValue): PickleValue => {
      const t = pid instanceof PickleTuple ? pid.items : undefined;
      if (t?.length !== 5 || t[0] !== 'storage') return bad('data.pkl has a persistent id that is not a storage');
      const [, cls, key, location, numel] = t;
      if (!(cls instanceof PickleGlobal) || cls.module !== 'torch') return bad('storage type is not a torch class');
      const dtype = STORAGE_DTYPE[cls.name] ?? (isTorchDtype(cls.name) ? (cls.name as TorchDtype) : undefined);
      if (dtype === undefined) return bad(`storage type torch.${cls.name} is not supported`);
      if (typeof key !== 'string' || typeof location !== 'string') return bad('storage key/location are not strings');
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) return bad('bad storage size');
      if (storage !== undefined && storage.key !== key) bad('the chunk references more than one storage');
      storage ??= new TorchStorage(key, dtype, numel, location, file);
      return storage;
    };
    const call = (g: PickleGlobal, args: PickleValue[]): PickleValue => {
      const q = g.qualifiedName;
      if (q === 'collections.OrderedDict') return new PickleDict(true);
      if (q !== 'torch._utils._rebuild_tensor_v2' && q !== 'torch._utils._rebuild_tensor_v3')
        return bad(`data.pkl calls ${q}, which is not a tensor rebuild function; refusing (nothing was executed)`);
      const [st, off, size, stride] = args;
      if (!(st instanceof TorchStorage)) return bad('the tensor is not built on a storage');
      let dtype = st.dtype;
      if (q === 'torch._utils._rebuild_tensor_v3') {
        const d = args[6];
        if (!(d instanceof PickleGlobal) || d.module !== 'torch' || !isTorchDtype(d.name))
          return bad('_rebuild_tensor_v3 without a torch dtype');
        dtype = d.name as TorchDtype;
      }
      const shape = intsOf(size);
      const strides = intsOf(stride);
      if (!shape || !strides || typeof off !== 'number') return bad('bad tensor size/stride/offset');
      // TorchTensor checks that size, stride and offset stay inside the storage.
      return new TorchTensor(st, dtype, shape, strides, off);
    };
    let value: PickleValue;
    try {
      value = unpickle(pkl, { persistentLoad, call }).value;
    } catch (err) {
      if (err instanceof DcpChunkError) throw err;
      if (err instanceof PtError) return bad(`data.pkl: ${err.message}`, err);
      throw err;
    }
    if (!(value instanceof TorchTensor)) return bad('the archive does not hold a single tensor');
    if (!value.isContiguous) bad('the tensor is not contiguous (DCP saves compact tensors); the chunk is unusual');
    const rec = entries.get(`${prefix}/data/${value.storage.key}`);
    if (!rec) return bad(`the archive has no ${prefix}/data/${value.storage.key} record`);
    if (rec.compressedSize < value.storage.nbytes)
      bad(`storage record holds ${rec.compressedSize} bytes, the tensor needs ${value.storage.nbytes}`);
    const itemsize = TORCH_DTYPE_ITEMSIZE[value.dtype];
    return {
      dtype: value.dtype,
      shape: value.shape,
      dataStart: (await start(rec)) + value.storageOffset * itemsize,
      byteLength: value.numel * itemsize,
    };
  } finally {
    zip.close();
  }
}
