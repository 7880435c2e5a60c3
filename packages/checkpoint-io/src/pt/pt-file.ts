// The result of readPt: the decoded object tree plus the open file its tensors read from.
import { PickleDict, PickleObject, PickleTuple, type PickleValue } from './pickle/values.js';
import type { PickleGlobalUse } from './torch/allowlist.js';
import type { TorchStorage } from './torch/storage.js';
import { TorchTensor } from './torch/tensor.js';

export interface PtFileInfo {
  path: string;
  format: 'zip' | 'legacy';
  /** Byte order of the storages ('big' only for files saved on big-endian machines). */
  byteorder: 'little' | 'big';
  /** The zip archive's folder name (e.g. "archive", "mp_rank_00_model_states"); null for legacy files. */
  archiveName: string | null;
  /** Contents of the archive's `version` (or `.data/version`) record, trimmed; legacy files: "legacy-1001". */
  version: string | null;
}

export class PtFile implements PtFileInfo {
  readonly path: string;
  readonly format: 'zip' | 'legacy';
  readonly byteorder: 'little' | 'big';
  readonly archiveName: string | null;
  readonly version: string | null;

  constructor(
    info: PtFileInfo,
    /** The unpickled object (what torch.load returns), with tensors as lazy TorchTensor records. */
    readonly root: PickleValue,
    /** Every storage the pickle references, by key. */
    readonly storages: ReadonlyMap<string, TorchStorage>,
    private readonly closer: () => Promise<void>,
    /** Every global the pickle names, in first-seen order, and whether it is on the allow-list. */
    readonly globals: readonly PickleGlobalUse[] = [],
  ) {
    this.path = info.path;
    this.format = info.format;
    this.byteorder = info.byteorder;
    this.archiveName = info.archiveName;
    this.version = info.version;
  }

  /** Every tensor reachable from `root`, named by its path of dict keys / list indices joined with ".". */
  tensors(): Array<[string, TorchTensor]> {
    return flattenTensors(this.root);
  }

  /** The globals not on the allow-list (only non-empty when read with `unsafeGlobals: 'list'`). */
  get unsafeGlobals(): PickleGlobalUse[] {
    return this.globals.filter((g) => !g.allowed);
  }

  /** Closes the file; tensors read afterwards fail with PtClosedError. */
  close(): Promise<void> {
    return this.closer();
  }
}

function keyText(k: PickleValue): string {
  if (typeof k === 'string') return k;
  if (typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean' || k === null) return String(k);
  return `<${k instanceof PickleTuple ? 'tuple' : typeof k}>`;
}

/**
 * Tensors reachable from `value` with dotted paths ("module.layers.0.weight", "state.0.exp_avg"). Walks dicts,
 * lists, tuples and the args/state/items of inert objects; iterative (no recursion limit) and cycle-safe. A tensor
 * pickled once but referenced under two keys (tied weights) is listed under both.
 */
export function flattenTensors(value: PickleValue): Array<[string, TorchTensor]> {
  const out: Array<[string, TorchTensor]> = [];
  const seen = new Set<object>();
  const work: Array<[string, PickleValue]> = [['', value]];
  const join = (a: string, b: string): string => (a === '' ? b : `${a}.${b}`);
  while (work.length > 0) {
    const [path, v] = work.pop() as [string, PickleValue];
    if (v === null || typeof v !== 'object' || v instanceof Uint8Array) continue;
    // A tensor is listed under every name it has (tied weights are one tensor under two keys, as in torch);
    // a container is expanded once (cycles and shared sub-trees cannot blow up).
    if (v instanceof TorchTensor) {
      out.push([path, v]);
      continue;
    }
    if (seen.has(v)) continue;
    seen.add(v);
    const children: Array<[string, PickleValue]> = [];
    if (v instanceof PickleDict) for (const [k, x] of v.entries) children.push([join(path, keyText(k)), x]);
    else if (Array.isArray(v)) v.forEach((x, i) => children.push([join(path, String(i)), x]));
    else if (v instanceof PickleTuple) v.items.forEach((x, i) => children.push([join(path, String(i)), x]));
    else if (v instanceof PickleObject) {
      v.args.forEach((x, i) => children.push([join(path, `args.${i}`), x]));
      if (v.state !== undefined) children.push([join(path, 'state'), v.state]);
      v.listItems.forEach((x, i) => children.push([join(path, String(i)), x]));
      for (const [k, x] of v.dictItems) children.push([join(path, keyText(k)), x]);
    }
    // Push in reverse so the output follows document order.
    for (let i = children.length - 1; i >= 0; i--) work.push(children[i] as [string, PickleValue]);
  }
  return out;
}
