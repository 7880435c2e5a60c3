// Which pickle globals a checkpoint may name. A pickle that names anything else (os.system, builtins.eval,
// subprocess.Popen, a user's class) is refused by readPt with UnsafePickleError: nothing here executes it,
// but torch.load would import and call it. The list follows torch's weights_only unpickler
// (torch/_weights_only_unpickler.py `_get_allowed_globals`: OrderedDict, Parameter, Size, Tensor, dtypes,
// storage classes, the _rebuild_* functions) and picklescan's "innocuous" globals (numpy arrays), plus the
// plain-data classes DeepSpeed writes into its checkpoints. `builtins.getattr` — dangerous in general
// (picklescan and torch refuse it) — is accepted only where every use is a lookup of a known enum member.
import { canonicalName, dtypeOfGlobal, type GetattrObserver, isKnownGlobal } from './globals.js';
import { KNOWN_ENUMS } from './enums.js';
import { storageTypeDtype } from './persistent.js';
import { UnsafePickleError } from '../errors.js';
import { PickleGlobal } from '../pickle/values.js';

/** Globals that are data when named or called (decoded as inert PickleGlobal / PickleObject records). */
const DATA_GLOBALS: ReadonlySet<string> = new Set([
  // torch types named but not called (the class argument of _rebuild_from_type_v2, copyreg's base).
  'torch.Tensor',
  'torch._tensor.Tensor',
  'builtins.object',
  // DeepSpeed checkpoint records (engine / ZeRO optimizer state_dict()).
  'deepspeed.runtime.fp16.loss_scaler.LossScaler',
  'deepspeed.runtime.fp16.loss_scaler.DynamicLossScaler',
  'deepspeed.utils.tensor_fragment.fragment_address',
  // Megatron-DeepSpeed saves its parsed arguments.
  'argparse.Namespace',
  // numpy arrays (picklescan: innocuous).
  'numpy.dtype',
  'numpy.ndarray',
  'numpy.core.multiarray._reconstruct',
  'numpy._core.multiarray._reconstruct',
]);

const GETATTR = 'builtins.getattr';

/** One global a pickle names (as written in the file: `__builtin__` stays `__builtin__`). */
export interface PickleGlobalUse {
  module: string;
  name: string;
  /** On the allow-list (getattr: only when every use was a known enum member lookup). */
  allowed: boolean;
}

/** True when the global is on the allow-list (getattr is not: see GlobalsAudit). */
export function isAllowedGlobal(module: string, name: string, extra: ReadonlySet<string> = new Set()): boolean {
  const canonical = canonicalName(module, name);
  if (isKnownGlobal(module, name) || DATA_GLOBALS.has(canonical) || KNOWN_ENUMS.has(canonical)) return true;
  if (extra.has(canonical) || extra.has(`${module}.${name}`)) return true;
  const g = new PickleGlobal(module, name);
  return storageTypeDtype(g) !== undefined || dtypeOfGlobal(g) !== undefined;
}

/**
 * Records every global a file's pickles name and whether it is allowed. Feed it the unpickler's `onGlobal`
 * hook and torchCall's getattr observer; call `beginPickle` / `endPickle` around each pickle parsed.
 */
export class GlobalsAudit implements GetattrObserver {
  readonly #extra: ReadonlySet<string>;
  readonly #uses = new Map<string, PickleGlobalUse>();
  /** getattr globals of the current pickle not yet used for an enum member lookup. */
  #pendingGetattr = new Set<PickleGlobal>();

  constructor(allowGlobals: Iterable<string> = []) {
    this.#extra = new Set(allowGlobals);
  }

  #record(g: PickleGlobal, allowed: boolean): void {
    const key = `${g.module}\n${g.name}`;
    const use = this.#uses.get(key);
    if (use) use.allowed &&= allowed;
    else this.#uses.set(key, { module: g.module, name: g.name, allowed });
  }

  /** The unpickler's onGlobal hook. */
  readonly onGlobal = (g: PickleGlobal): void => {
    if (canonicalName(g.module, g.name) === GETATTR) {
      this.#pendingGetattr.add(g);
      this.#record(g, true); // provisional: settled by getattr() / endPickle()
      return;
    }
    this.#record(g, isAllowedGlobal(g.module, g.name, this.#extra));
  };

  getattr(g: PickleGlobal, ok: boolean): void {
    if (ok) this.#pendingGetattr.delete(g);
    else this.#record(g, false);
  }

  /** Starts (or restarts, after a pickle was cut off by the read window) one pickle. */
  beginPickle(): void {
    this.#pendingGetattr = new Set();
  }

  /** Ends a pickle: a getattr named but never used for an enum member lookup is not allowed. */
  endPickle(): void {
    for (const g of this.#pendingGetattr) this.#record(g, false);
    this.#pendingGetattr = new Set();
  }

  /** Every global named so far, in first-seen order. */
  get uses(): PickleGlobalUse[] {
    return [...this.#uses.values()].map((u) => ({ ...u }));
  }

  get unsafe(): PickleGlobalUse[] {
    return this.uses.filter((u) => !u.allowed);
  }
}

export interface GlobalsPolicy {
  /**
   * What to do when a pickle names a global that is not on the allow-list: `'refuse'` (default) throws
   * UnsafePickleError listing each `module.name`; `'list'` reads the file anyway (the globals stay inert
   * records, nothing is called) and lists them in `PtFile.globals`, for forensics.
   */
  unsafeGlobals?: 'refuse' | 'list';
  /** Extra `module.name` globals you trust as plain data (like torch.serialization.add_safe_globals). */
  allowGlobals?: readonly string[];
}

/** Throws UnsafePickleError when the policy refuses and the audit saw unsafe globals (`cause`: a parse error). */
export function refuseUnsafeGlobals(path: string, audit: GlobalsAudit, policy: GlobalsPolicy, cause?: unknown): void {
  if ((policy.unsafeGlobals ?? 'refuse') !== 'refuse') return;
  const unsafe = audit.unsafe;
  if (unsafe.length > 0) throw new UnsafePickleError(path, unsafe, cause === undefined ? undefined : { cause });
}
