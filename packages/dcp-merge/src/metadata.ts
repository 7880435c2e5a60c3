// `.metadata` of a torch.distributed.checkpoint directory: a pickled `Metadata` dataclass
// (torch/distributed/checkpoint/metadata.py) written by FileSystemWriter.finish. It is decoded with
// checkpoint-io's pickle VM, which never calls anything; our `call` hook accepts exactly the globals DCP
// pickles (the dataclasses, torch.Size, dtypes, layouts, memory formats, pathlib paths) and refuses every other
// one, so a hostile `.metadata` (os.system, builtins.eval, …) is a typed error before any chunk is read.
import { readFile } from 'node:fs/promises';
import {
  isTorchDtype,
  PickleDict,
  PtError,
  PickleGlobal,
  PickleObject,
  PickleSet,
  PickleTuple,
  TorchSize,
  unpickle,
  type CallKind,
  type PickleValue,
  type TorchDtype,
} from '@vla-lora/checkpoint-io';
import { DcpMetadataError, DcpNotFoundError, DcpUnsafePickleError, DcpUnsupportedTransformError } from './errors.js';

const META = 'torch.distributed.checkpoint.metadata';
const FS = 'torch.distributed.checkpoint.filesystem';

/** The globals a DCP `.metadata` may construct (NEWOBJ / REDUCE); anything else is refused. */
const DCP_CLASSES: ReadonlySet<string> = new Set([
  `${META}.Metadata`,
  `${META}.TensorStorageMetadata`,
  `${META}.TensorProperties`,
  `${META}.ChunkStorageMetadata`,
  `${META}.BytesStorageMetadata`,
  `${META}.MetadataIndex`,
  `${META}.StorageMeta`,
  `${FS}._StorageInfo`,
]);

/** Other callables DCP's pickle uses, each mapped to inert data below. */
const DCP_HELPERS: ReadonlySet<string> = new Set([
  'torch.Size',
  'torch.serialization._get_layout',
  `${META}._MEM_FORMAT_ENCODING`,
  'collections.OrderedDict',
  'pathlib.PosixPath',
  'pathlib.WindowsPath',
  'pathlib.PurePosixPath',
  'pathlib.PureWindowsPath',
]);

/** The allow-list, for documentation and tests. */
export const DCP_ALLOWED_GLOBALS: readonly string[] = [...DCP_CLASSES, ...DCP_HELPERS, 'torch.<dtype>'].sort();

export interface DcpChunk {
  offsets: number[];
  sizes: number[];
}

export interface DcpStorageInfo {
  /** File name relative to the checkpoint directory (`__0_0.distcp`). */
  relativePath: string;
  offset: number;
  length: number;
}

export interface DcpTensorEntry {
  kind: 'tensor';
  /** Flattened fully-qualified name (`model.model.layers.0.self_attn.q_proj.lora_A.default.weight`). */
  fqn: string;
  dtype: TorchDtype;
  size: number[];
  chunks: Array<DcpChunk & { storage: DcpStorageInfo }>;
}

export interface DcpBytesEntry {
  kind: 'bytes';
  fqn: string;
  storage: DcpStorageInfo;
}

export type DcpEntry = DcpTensorEntry | DcpBytesEntry;

export interface DcpMetadata {
  file: string;
  /** In `state_dict_metadata` order. */
  entries: DcpEntry[];
  /** planner_data: flattened fqn → path of keys in the original nested state dict (`["model", "lm_head.weight"]`). */
  plannerPaths: Map<string, Array<string | number>>;
  /** `version` of the metadata format when present ("1.0.0"). */
  version: string | null;
}

function fail(file: string, why: string): never {
  throw new DcpMetadataError(
    `${file}: ${why}; it is not a torch.distributed.checkpoint .metadata file or it is damaged — copy the checkpoint again`,
    file,
  );
}

function str(v: PickleValue | undefined, file: string, what: string): string {
  if (typeof v !== 'string') fail(file, `${what} is not a string`);
  return v;
}

function nat(v: PickleValue | undefined, file: string, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) fail(file, `${what} is not a non-negative integer`);
  return v;
}

function dims(v: PickleValue | undefined, file: string, what: string): number[] {
  const items = v instanceof TorchSize ? v.dims : v instanceof PickleTuple ? v.items : Array.isArray(v) ? v : undefined;
  if (items === undefined) fail(file, `${what} is not a torch.Size`);
  return items.map((x, i) => nat(x, file, `${what}[${i}]`));
}

function obj(v: PickleValue | undefined, file: string, cls: string, what: string): PickleObject {
  if (!(v instanceof PickleObject) || v.qualifiedName !== cls) fail(file, `${what} is not a ${cls.split('.').pop()}`);
  return v;
}

/** Field of a dataclass instance: its BUILD state dict (or a `(None, slots)` tuple). */
function field(o: PickleObject, key: string): PickleValue | undefined {
  const s = o.state;
  if (s instanceof PickleDict) return s.get(key);
  if (s instanceof PickleTuple && s.items.length === 2) {
    for (const part of s.items) if (part instanceof PickleDict && part.has(key)) return part.get(key);
  }
  return undefined;
}

function dictOf(v: PickleValue | undefined, file: string, what: string): PickleDict {
  if (!(v instanceof PickleDict)) fail(file, `${what} is not a dict`);
  return v;
}

/** Walks every value once (iteratively) and refuses a global outside the allow-list, called or not. */
function checkGlobals(root: PickleValue, file: string): void {
  const seen = new Set<object>();
  const work: PickleValue[] = [root];
  while (work.length > 0) {
    const v = work.pop() as PickleValue;
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof PickleGlobal) {
      const q = v.qualifiedName;
      if (!(v.module === 'torch' && isTorchDtype(v.name)) && !DCP_CLASSES.has(q) && !DCP_HELPERS.has(q))
        refuse(file, q);
    } else if (v instanceof PickleDict) for (const [k, x] of v.entries) work.push(k, x);
    else if (Array.isArray(v)) work.push(...v);
    else if (v instanceof PickleTuple || v instanceof PickleSet) work.push(...v.items);
    else if (v instanceof PickleObject) {
      work.push(...v.args, ...v.listItems);
      if (v.state !== undefined) work.push(v.state);
      for (const [k, x] of v.dictItems) work.push(k, x);
    }
  }
}

function refuse(file: string, q: string): never {
  throw new DcpUnsafePickleError(
    `${file}: the pickle references ${q}, which is not one of the DCP classes a .metadata file holds; refusing to read it (nothing was executed). Only load checkpoints from sources you trust`,
    file,
    q,
  );
}

/** The call hook: DCP dataclasses become inert records; helpers become plain values; the rest is refused. */
function dcpCall(file: string) {
  return (g: PickleGlobal, args: PickleValue[], kind: CallKind, kwargs: PickleDict | undefined): PickleValue => {
    const q = g.qualifiedName;
    if (DCP_CLASSES.has(q)) return new PickleObject(g.module, g.name, args, kwargs, kind);
    switch (q) {
      case 'torch.Size':
        return new TorchSize(dims(args[0] ?? new PickleTuple([]), file, 'torch.Size'));
      case 'torch.serialization._get_layout':
        return str(args[0], file, '_get_layout argument');
      case `${META}._MEM_FORMAT_ENCODING`:
        return nat(args[0], file, '_MEM_FORMAT_ENCODING value');
      case 'collections.OrderedDict':
        return new PickleDict(true);
      case 'pathlib.PosixPath':
      case 'pathlib.WindowsPath':
      case 'pathlib.PurePosixPath':
      case 'pathlib.PureWindowsPath':
        return new PickleObject(g.module, g.name, args, kwargs, kind);
      default:
        refuse(file, q);
    }
  };
}

function storageInfo(v: PickleValue | undefined, file: string, what: string): DcpStorageInfo {
  const o = obj(v, file, `${FS}._StorageInfo`, what);
  const td = field(o, 'transform_descriptors');
  if (td !== undefined && td !== null) {
    const list = td instanceof PickleTuple ? td.items : Array.isArray(td) ? td : [td];
    if (list.length > 0) {
      throw new DcpUnsupportedTransformError(
        `${file}: ${what} is stored through stream transforms ${JSON.stringify(list.map(String))} (e.g. compression written by a DCP extension); dcp-merge reads only untransformed torch.save chunks — re-save without _extensions, or consolidate with torch's dcp_to_torch_save`,
        file,
      );
    }
  }
  return {
    relativePath: str(field(o, 'relative_path'), file, `${what}.relative_path`),
    offset: nat(field(o, 'offset'), file, `${what}.offset`),
    length: nat(field(o, 'length'), file, `${what}.length`),
  };
}

function dtypeOf(props: PickleObject, file: string, fqn: string): TorchDtype {
  // TensorProperties.__getstate__ is a tuple (dtype, layout, requires_grad, memory_format, pin_memory);
  // older torch pickled the dataclass __dict__.
  let d: PickleValue | undefined;
  if (props.state instanceof PickleTuple) d = props.state.items[0];
  else d = field(props, 'dtype');
  if (!(d instanceof PickleGlobal) || d.module !== 'torch' || !isTorchDtype(d.name))
    fail(file, `${fqn}: TensorProperties has no torch dtype`);
  const layout = props.state instanceof PickleTuple ? props.state.items[1] : field(props, 'layout');
  if (layout !== undefined && layout !== 'torch.strided' && !(layout instanceof PickleGlobal))
    fail(file, `${fqn}: layout ${String(layout)} is not torch.strided (sparse tensors are not supported)`);
  return d.name as TorchDtype;
}

function keyPath(v: PickleValue | undefined, file: string, fqn: string): Array<string | number> {
  const items = v instanceof PickleTuple ? v.items : Array.isArray(v) ? v : undefined;
  if (items === undefined) fail(file, `planner_data[${fqn}] is not a tuple of keys`);
  return items.map((k) => {
    if (typeof k === 'string' || typeof k === 'number') return k;
    return fail(file, `planner_data[${fqn}] has a key that is neither a string nor an int`);
  });
}

/** Parses `.metadata` bytes (already read). Throws DcpMetadataError / DcpUnsafePickleError. */
export function parseMetadata(bytes: Uint8Array, file: string): DcpMetadata {
  let root: PickleValue;
  try {
    root = unpickle(bytes, { call: dcpCall(file) }).value;
  } catch (err) {
    if (err instanceof DcpMetadataError) throw err;
    if (err instanceof PtError)
      throw new DcpMetadataError(`${file}: ${err.message}; the .metadata pickle is damaged — copy it again`, file, {
        cause: err,
      });
    throw err;
  }
  checkGlobals(root, file);
  const md = obj(root, file, `${META}.Metadata`, 'the pickled object');
  const sdm = dictOf(field(md, 'state_dict_metadata'), file, 'state_dict_metadata');
  const sd = dictOf(field(md, 'storage_data'), file, 'storage_data');

  // storage_data: MetadataIndex(fqn, offset, index) → _StorageInfo. Chunks are matched by (fqn, offset).
  const byChunk = new Map<string, DcpStorageInfo>();
  const key = (fqn: string, offset: number[]): string => `${fqn}\u0000${offset.join(',')}`;
  for (const [k, v] of sd.entries) {
    const mi = obj(k, file, `${META}.MetadataIndex`, 'a storage_data key');
    const fqn = str(field(mi, 'fqn'), file, 'MetadataIndex.fqn');
    const off = field(mi, 'offset');
    const offset = off === null || off === undefined ? [] : dims(off, file, `MetadataIndex(${fqn}).offset`);
    const k2 = key(fqn, offset);
    if (byChunk.has(k2)) fail(file, `storage_data lists ${fqn} at offset [${offset.join(', ')}] twice`);
    byChunk.set(k2, storageInfo(v, file, `storage_data[${fqn} @ ${offset.join(',')}]`));
  }

  const entries: DcpEntry[] = [];
  for (const [k, v] of sdm.entries) {
    const fqn = str(k, file, 'a state_dict_metadata key');
    if (v instanceof PickleObject && v.qualifiedName === `${META}.BytesStorageMetadata`) {
      const storage = byChunk.get(key(fqn, []));
      if (!storage) fail(file, `${fqn} has no storage_data entry`);
      entries.push({ kind: 'bytes', fqn, storage });
      continue;
    }
    const tm = obj(v, file, `${META}.TensorStorageMetadata`, `state_dict_metadata[${fqn}]`);
    const props = obj(field(tm, 'properties'), file, `${META}.TensorProperties`, `${fqn}.properties`);
    const dtype = dtypeOf(props, file, fqn);
    const size = dims(field(tm, 'size'), file, `${fqn}.size`);
    const rawChunks = field(tm, 'chunks');
    if (!Array.isArray(rawChunks)) fail(file, `${fqn}.chunks is not a list`);
    const chunks = rawChunks.map((c, i) => {
      const co = obj(c, file, `${META}.ChunkStorageMetadata`, `${fqn}.chunks[${i}]`);
      const offsets = dims(field(co, 'offsets'), file, `${fqn}.chunks[${i}].offsets`);
      const sizes = dims(field(co, 'sizes'), file, `${fqn}.chunks[${i}].sizes`);
      const storage = byChunk.get(key(fqn, offsets));
      if (!storage) fail(file, `${fqn} chunk at offset [${offsets.join(', ')}] has no storage_data entry`);
      return { offsets, sizes, storage };
    });
    entries.push({ kind: 'tensor', fqn, dtype, size, chunks });
  }

  const plannerPaths = new Map<string, Array<string | number>>();
  const pd = field(md, 'planner_data');
  if (pd instanceof PickleDict)
    for (const [k, v] of pd.entries) {
      const fqn = str(k, file, 'a planner_data key');
      plannerPaths.set(fqn, keyPath(v, file, fqn));
    }
  const version = field(md, 'version');
  return { file, entries, plannerPaths, version: typeof version === 'string' ? version : null };
}

/** Reads and parses `<dir>/.metadata`. */
export async function readMetadata(dir: string): Promise<DcpMetadata> {
  const file = `${dir.replace(/\/+$/, '')}/.metadata`;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new DcpNotFoundError(
        `${dir} is not a torch.distributed.checkpoint directory: it has no .metadata file (FSDP/DCP checkpoints hold .metadata + __<rank>_<n>.distcp)`,
      );
    throw err;
  }
  return parseMetadata(bytes, file);
}
