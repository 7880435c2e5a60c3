// torch's persistent ids: ('storage', storage_type, key, location, numel[, view_metadata]) → a shared TorchStorage.
import { latin1Decode } from '../bytes.js';
import { PtTorchObjectError } from '../errors.js';
import { STORAGE_CLASS_DTYPE, TORCH_DTYPE_ITEMSIZE, type TorchDtype } from './dtypes.js';
import { PickleGlobal, PickleTuple, type PickleValue } from '../pickle/values.js';
import { dtypeOfGlobal } from './globals.js';
import { TorchStorage } from './storage.js';

const STORAGE_MODULES = new Set(['torch', 'torch.cuda', 'torch.storage']);

/** A legacy-format storage view: `viewKey` is `[offset, offset+size)` elements of the root storage. */
export interface LegacyView {
  view: TorchStorage;
  root: TorchStorage;
  offset: number;
}

function ascii(v: PickleValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return latin1Decode(v);
  return undefined;
}

/** The dtype of a persistent id's storage type: a storage class (torch.FloatStorage, torch.UntypedStorage) or a dtype. */
export function storageTypeDtype(v: PickleValue | undefined): TorchDtype | undefined {
  if (!(v instanceof PickleGlobal)) return undefined;
  if (STORAGE_MODULES.has(v.module)) {
    const d = STORAGE_CLASS_DTYPE.get(v.name);
    if (d) return d;
  }
  return dtypeOfGlobal(v);
}

type Bad = (why: string) => never;

/** The storage a persistent id names: its dtype, key, location and element count, checked. */
function parseStorageId(
  items: PickleValue[],
  bad: Bad,
): { dtype: TorchDtype; key: string; location: string; numel: number } {
  const [, storageType, keyV, locationV, numelV] = items;
  const dtype = storageTypeDtype(storageType);
  if (dtype === undefined) {
    const name = storageType instanceof PickleGlobal ? storageType.qualifiedName : typeof storageType;
    bad(`names an unknown storage type ${name}`);
  }
  const key = typeof keyV === 'number' ? String(keyV) : ascii(keyV);
  if (key === undefined) bad('has a storage key that is not a string');
  const location = ascii(locationV) ?? bad('has a location that is not a string');
  if (typeof numelV !== 'number' || !Number.isSafeInteger(numelV) || numelV < 0) bad('has a bad element count');
  const numel = numelV as number;
  if (!Number.isSafeInteger(numel * TORCH_DTYPE_ITEMSIZE[dtype as TorchDtype]))
    bad('has an element count that overflows');
  return { dtype: dtype as TorchDtype, key: key as string, location, numel };
}

/** The (viewKey, offset, size) of a legacy view_metadata, checked against its root storage. */
function parseViewMeta(
  viewMeta: PickleValue,
  root: TorchStorage,
  bad: Bad,
): { viewKey: string; off: number; size: number } {
  if (!(viewMeta instanceof PickleTuple) || viewMeta.items.length !== 3) bad('has bad view metadata');
  const [viewKeyV, offV, sizeV] = (viewMeta as PickleTuple).items;
  const viewKey = ascii(viewKeyV) ?? bad('has a view key that is not a string');
  if (
    typeof offV !== 'number' ||
    typeof sizeV !== 'number' ||
    !Number.isSafeInteger(offV) ||
    !Number.isSafeInteger(sizeV) ||
    offV < 0 ||
    sizeV < 0
  ) {
    bad('has a bad view offset/size');
  }
  const off = offV as number;
  const size = sizeV as number;
  if (off + size > root.numel) bad(`views elements [${off}, ${off + size}) of a ${root.numel}-element storage`);
  return { viewKey, off, size };
}

/**
 * Builds the persistentLoad hook. `storages` collects every storage by key (shared between tensors, as torch
 * does); `onStorage` lets the format reader bind a new storage to its bytes.
 */
export function torchPersistentLoad(
  fileName: string,
  format: 'zip' | 'legacy',
  storages: Map<string, TorchStorage>,
  onStorage: (s: TorchStorage) => void,
  views: LegacyView[] = [],
): (pid: PickleValue) => PickleValue {
  const bad: Bad = (why) => {
    throw new PtTorchObjectError(
      `${fileName}: persistent id ${why}; the file is corrupt or was not written by torch.save`,
    );
  };
  const viewStorages = new Map<string, TorchStorage>();
  const viewOf = (storage: TorchStorage, viewMeta: PickleValue, location: string): TorchStorage => {
    const { viewKey, off, size } = parseViewMeta(viewMeta, storage, bad);
    let view = viewStorages.get(viewKey);
    if (!view) {
      view = new TorchStorage(viewKey, storage.dtype, size, location, fileName);
      view.bindView(storage, off * TORCH_DTYPE_ITEMSIZE[storage.dtype]);
      viewStorages.set(viewKey, view);
      views.push({ view, root: storage, offset: off });
    }
    return view;
  };
  return (pid) => {
    if (!(pid instanceof PickleTuple) || pid.items.length === 0) bad('is not a tuple');
    const t = pid as PickleTuple;
    const typename = ascii(t.items[0]);
    if (typename === 'module' && format === 'legacy') {
      // A whole nn.Module was saved: torch returns the container type; we return its (inert) global.
      return t.items[1] ?? null;
    }
    if (typename !== 'storage')
      bad(`of type ${JSON.stringify(typename ?? String(t.items[0]))} (only 'storage' is known)`);
    const expected = format === 'zip' ? 5 : 6;
    if (t.items.length !== expected) bad(`has ${t.items.length} fields, expected ${expected}`);
    const { dtype, key, location, numel } = parseStorageId(t.items, bad);
    let storage = storages.get(key);
    if (!storage) {
      storage = new TorchStorage(key, dtype, numel, location, fileName);
      storages.set(key, storage);
      onStorage(storage);
    }
    const viewMeta = t.items[5];
    if (format === 'legacy' && viewMeta !== undefined && viewMeta !== null) return viewOf(storage, viewMeta, location);
    return storage;
  };
}
