// The inert values a pickle decodes to. Nothing here can run code: every Python object is data.
// The pickle layer knows nothing of torch: torch/ adds its values (TorchSize, TorchTensor, TorchStorage) to
// PickleValue through `PickleValueExtensions` (declaration merging), so no module here imports torch/.
import { latin1Decode } from '../bytes.js';

/**
 * Values that layers above the pickle VM add to PickleValue: `declare module` this interface with one property per
 * added class (torch/ adds `size: TorchSize`, `tensor: TorchTensor`, `storage: TorchStorage`).
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging in torch/
export interface PickleValueExtensions {}

/** Everything `readPt` can return. Python int → number (bigint beyond ±2^53), float → number, str → string,
 * bytes/bytearray → Uint8Array, list → array, None → null. */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | PickleSet
  | PickleGlobal
  | PickleObject
  | PickleValueExtensions[keyof PickleValueExtensions];

/** A Python tuple. */
export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
  get length(): number {
    return this.items.length;
  }
}

/** A Python set or frozenset. */
export class PickleSet {
  constructor(
    readonly items: PickleValue[],
    readonly frozen: boolean,
  ) {}
}

/** A reference to a Python global (class, function, dtype) that was named in the pickle but never called. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/**
 * The inert record of an object built from a global that is not on the allow-list (DeepSpeed's ZeroStageEnum,
 * LossScaler, argparse.Namespace, dataclasses, `os.system`...). Nothing was called: `args` are what REDUCE /
 * NEWOBJ would have passed, `state` what BUILD would have set, `listItems` / `dictItems` what APPENDS /
 * SETITEMS would have added.
 */
export class PickleObject {
  state: PickleValue | undefined = undefined;
  readonly listItems: PickleValue[] = [];
  readonly dictItems: Array<[PickleValue, PickleValue]> = [];
  constructor(
    readonly module: string,
    readonly name: string,
    readonly args: PickleValue[],
    readonly kwargs: PickleDict | undefined = undefined,
    /** How the pickle asked for it: REDUCE (a call), NEWOBJ (cls.__new__), INST/OBJ (protocol 0/1 instances). */
    readonly via: 'reduce' | 'newobj' | 'inst' = 'reduce',
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
  /** `state[key]` when the state is a dict (the usual `__dict__` of a pickled instance). */
  attr(key: string): PickleValue | undefined {
    return this.state instanceof PickleDict ? this.state.get(key) : undefined;
  }
}

const MAX_KEY_DEPTH = 32;

/** A key for hashing Python dict keys; undefined for keys compared by identity. */
function hashKey(key: PickleValue, depth = 0): string | undefined {
  if (key === null) return 'N';
  switch (typeof key) {
    case 'string':
      return `s${key}`;
    case 'number':
      // Python: 1 == 1.0 == True hash alike; -0.0 == 0.
      return Number.isNaN(key) ? undefined : `n${key === 0 ? 0 : key}`;
    case 'bigint':
      return `n${key}`;
    case 'boolean':
      return `n${key ? 1 : 0}`;
    default:
      break;
  }
  if (key instanceof PickleTuple && depth < MAX_KEY_DEPTH) {
    const parts: string[] = [];
    for (const item of key.items) {
      const h = hashKey(item, depth + 1);
      if (h === undefined) return undefined;
      parts.push(h);
    }
    return `t${parts.length}(${parts.map((p) => `${p.length}:${p}`).join('')})`;
  }
  if (key instanceof Uint8Array) return `b${latin1Decode(key)}`;
  return undefined;
}

/** A Python dict (or collections.OrderedDict when `ordered`). Insertion order is kept, as in Python. */
export class PickleDict {
  readonly entries: Array<[PickleValue, PickleValue]> = [];
  /** Instance state set by BUILD (rare: attributes of an OrderedDict subclass). */
  state: PickleValue | undefined = undefined;
  readonly #index = new Map<string, number>();
  readonly #identity = new Map<PickleValue, number>();

  constructor(
    readonly ordered = false,
    entries?: Iterable<[PickleValue, PickleValue]>,
  ) {
    if (entries) for (const [k, v] of entries) this.set(k, v);
  }

  /** Sets `key` (replacing the value of an equal key in place, as Python does). */
  set(key: PickleValue, value: PickleValue): void {
    const h = hashKey(key);
    const at = h === undefined ? this.#identity.get(key) : this.#index.get(h);
    if (at !== undefined) {
      (this.entries[at] as [PickleValue, PickleValue])[1] = value;
      return;
    }
    if (h === undefined) this.#identity.set(key, this.entries.length);
    else this.#index.set(h, this.entries.length);
    this.entries.push([key, value]);
  }

  /** Value of `key` (any hashable Python key: str, int, tuple, ...). */
  get(key: PickleValue): PickleValue | undefined {
    const h = hashKey(key);
    const at = h === undefined ? this.#identity.get(key) : this.#index.get(h);
    return at === undefined ? undefined : (this.entries[at] as [PickleValue, PickleValue])[1];
  }

  has(key: PickleValue): boolean {
    const h = hashKey(key);
    return (h === undefined ? this.#identity.get(key) : this.#index.get(h)) !== undefined;
  }

  get size(): number {
    return this.entries.length;
  }

  keys(): PickleValue[] {
    return this.entries.map(([k]) => k);
  }

  values(): PickleValue[] {
    return this.entries.map(([, v]) => v);
  }

  /** The entries whose keys are strings, as a Map (other keys are skipped). */
  toStringMap(): Map<string, PickleValue> {
    const m = new Map<string, PickleValue>();
    for (const [k, v] of this.entries) if (typeof k === 'string') m.set(k, v);
    return m;
  }
}
