// torch's persistent ids: ('storage', storage_type, key, location, numel[, view_metadata]) → a shared TorchStorage.
import { PtTorchObjectError } from './errors.js';
import { STORAGE_CLASS_DTYPE, TORCH_DTYPE_ITEMSIZE, type TorchDtype } from './dtypes.js';
import { dtypeOfGlobal } from './torch-globals.js';
import { TorchStorage } from './tensor.js';
import { PickleGlobal, PickleTuple, type PickleValue } from './values.js';

const STORAGE_MODULES = new Set(['torch', 'torch.cuda', 'torch.storage']);

/** A legacy-format storage view: `viewKey` is `[offset, offset+size)` elements of the root storage. */
export interface LegacyView {
  view: TorchStorage;
  root: TorchStorage;
  offset: number;
}

function ascii(v: PickleValue | undefined): string | undefined {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v).toString('latin1');
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
  const bad = (why: string): never => {
    throw new PtTorchObjectError(
      `${fileName}: persistent id ${why}; the file is corrupt or was not written by torch.save`,
    );
  };
  const viewStorages = new Map<string, TorchStorage>();
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
    const [, storageType, keyV, locationV, numelV, viewMeta] = t.items;
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
    let storage = storages.get(key as string);
    if (!storage) {
      storage = new TorchStorage(key as string, dtype as TorchDtype, numel, location, fileName);
      storages.set(key as string, storage);
      onStorage(storage);
    }
    if (format === 'legacy' && viewMeta !== undefined && viewMeta !== null) {
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
      if (off + size > storage.numel)
        bad(`views elements [${off}, ${off + size}) of a ${storage.numel}-element storage`);
      let view = viewStorages.get(viewKey);
      if (!view) {
        view = new TorchStorage(viewKey, storage.dtype, size, location, fileName);
        view.bindView(storage, off * TORCH_DTYPE_ITEMSIZE[storage.dtype]);
        viewStorages.set(viewKey, view);
        views.push({ view, root: storage, offset: off });
      }
      return view;
    }
    return storage;
  };
}
