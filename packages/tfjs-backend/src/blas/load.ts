// Finds and loads a system CBLAS (OpenBLAS) through the optional `koffi` FFI package, Node only.
// Nothing here throws for a missing piece: the result says what was loaded or, typed, why not, and the
// wasm backend then keeps tfjs-backend-wasm's own XNNPACK GEMM.
import { availableParallelism } from 'node:os';
import { importOptional, isPackageNotFound, type ModuleImporter } from '../module-loading.js';

/** cblas_sgemm(order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc), row-major callers. */
export type Sgemm = (
  order: number,
  transA: number,
  transB: number,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
  beta: number,
  c: Float32Array,
  ldc: number,
) => void;

/** cblas_somatcopy(order, trans, rows, cols, alpha, A, lda, B, ldb): OpenBLAS's out-of-place (transposing) copy. */
export type Somatcopy = (
  order: number,
  trans: number,
  rows: number,
  cols: number,
  alpha: number,
  a: Float32Array,
  lda: number,
  b: Float32Array,
  ldb: number,
) => void;

export const CBLAS_ROW_MAJOR = 101;
export const CBLAS_NO_TRANS = 111;
export const CBLAS_TRANS = 112;

/** A CBLAS that loaded and passed a small self-test. */
export interface BlasLibrary {
  /** The file name or path that was loaded (as given to dlopen). */
  path: string;
  /** e.g. `OpenBLAS 0.3.21 (SkylakeX)`; `CBLAS` when the library is not OpenBLAS (explicit VLA_BLAS path). */
  vendor: string;
  /** GEMM threads (OpenBLAS's openblas_get_num_threads after setting); null when the library cannot say. */
  threads: number | null;
  sgemm: Sgemm;
  /** OpenBLAS's transposing copy (null where the library lacks it): the wasm backend's Transpose uses it. */
  somatcopy: Somatcopy | null;
  /** openblas_set_num_threads (null where the library is not OpenBLAS): smaller products run on one thread. */
  setThreads: ((n: number) => void) | null;
}

/** Why no BLAS: a code to branch on and a sentence for the log. */
export type BlasUnavailableCode =
  | 'disabled' // VLA_BLAS=off / blas: 'off'
  | 'not-node' // not running in Node
  | 'koffi-missing' // the optional koffi package is not installed
  | 'koffi-failed' // koffi is installed but its native part did not load (no prebuilt binary for this platform)
  | 'library-not-found' // no candidate library could be opened
  | 'not-cblas' // a library opened but has no cblas_sgemm (or is the slow reference BLAS)
  | 'self-test-failed'; // cblas_sgemm gave a wrong answer on a 2×3·3×2 product

export interface BlasUnavailable {
  code: BlasUnavailableCode;
  /** One line: what failed and what to do. */
  detail: string;
}

export type BlasLoadResult = { ok: true; library: BlasLibrary } | { ok: false; why: BlasUnavailable };

export interface LoadBlasOptions {
  /** `auto` (default): the system OpenBLAS; `off`: none; anything else: the path of a CBLAS library. */
  blas?: string;
  /** GEMM threads (default: VLA_BLAS_THREADS, else OPENBLAS_NUM_THREADS as OpenBLAS reads it, else all cores). */
  threads?: number;
  /** Environment to read VLA_BLAS / VLA_BLAS_THREADS / OPENBLAS_NUM_THREADS from (default process.env). */
  env?: Record<string, string | undefined>;
}

/** The slice of koffi this module uses. */
type KoffiFunction = (...args: unknown[]) => unknown;
interface KoffiLibrary {
  func(declaration: string): KoffiFunction;
}
interface KoffiLike {
  load(path: string): KoffiLibrary;
}

/** Seams for tests: how koffi is imported. */
export interface BlasLoadDeps {
  importOptional: ModuleImporter;
}

/** Libraries tried by `auto`, in order. Only OpenBLAS is accepted: the reference BLAS is slower than XNNPACK. */
export const BLAS_CANDIDATES: readonly string[] = [
  'libopenblas.so.0',
  '/usr/lib/x86_64-linux-gnu/libopenblas.so.0',
  '/usr/lib/aarch64-linux-gnu/libopenblas.so.0',
  'libblas.so.3', // Debian's alternative: OpenBLAS when libopenblas0-pthread is installed
  'libopenblas.so',
];

const SOMATCOPY_DECL =
  'void cblas_somatcopy(int order, int trans, int rows, int cols, float alpha, const float *A, int lda, ' +
  '_Inout_ float *B, int ldb)';

/** A 2×3 → 3×2 transpose through offset views; null when the symbol is missing or the result is wrong. */
function loadSomatcopy(lib: KoffiLibrary): Somatcopy | null {
  let f: Somatcopy;
  try {
    f = lib.func(SOMATCOPY_DECL) as unknown as Somatcopy;
  } catch {
    return null;
  }
  const buf = new Float32Array(16);
  buf.set([1, 2, 3, 4, 5, 6], 1);
  try {
    f(CBLAS_ROW_MAJOR, CBLAS_TRANS, 2, 3, 1, buf.subarray(1, 7), 3, buf.subarray(8, 14), 2);
  } catch {
    return null;
  }
  const want = [1, 4, 2, 5, 3, 6];
  return want.every((v, i) => buf[8 + i] === v) && buf[7] === 0 && buf[14] === 0 ? f : null;
}

const SGEMM_DECL =
  'void cblas_sgemm(int order, int transA, int transB, int M, int N, int K, float alpha, const float *A, int lda, ' +
  'const float *B, int ldb, float beta, _Inout_ float *C, int ldc)';

function message(err: unknown): string {
  return String((err as { message?: unknown })?.message ?? err).split('\n')[0] ?? '';
}

function isNode(): boolean {
  return typeof process !== 'undefined' && typeof process.versions?.node === 'string';
}

function parseThreads(raw: string | undefined): number | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

/**
 * A 2×3 · 3×2 product through views with a byte offset (as on the wasm heap), plain and with both
 * operands transposed: catches a library whose cblas_sgemm is missing or mis-declared.
 */
function selfTest(sgemm: Sgemm): boolean {
  const buf = new Float32Array(40);
  const a = buf.subarray(1, 7); // [[1,2,3],[4,5,6]]
  a.set([1, 2, 3, 4, 5, 6]);
  const b = buf.subarray(9, 15); // [[7,8],[9,10],[11,12]]
  b.set([7, 8, 9, 10, 11, 12]);
  const c = buf.subarray(17, 21);
  c.fill(1);
  sgemm(CBLAS_ROW_MAJOR, CBLAS_NO_TRANS, CBLAS_NO_TRANS, 2, 2, 3, 1, a, 3, b, 2, 0, c, 2);
  const plain = [58, 64, 139, 154];
  if (!plain.every((v, i) => c[i] === v)) return false;
  // (Aᵀ)ᵀ with A stored as its transpose [3,2], and Bᵀ stored [2,3]; beta = 1 accumulates
  const at = buf.subarray(22, 28);
  at.set([1, 4, 2, 5, 3, 6]);
  const bt = buf.subarray(29, 35);
  bt.set([7, 9, 11, 8, 10, 12]);
  sgemm(CBLAS_ROW_MAJOR, CBLAS_TRANS, CBLAS_TRANS, 2, 2, 3, 1, at, 2, bt, 3, 1, c, 2);
  return plain.every((v, i) => c[i] === 2 * v) && buf[0] === 0 && buf[16] === 0 && buf[21] === 0;
}

function describeOpenBlas(lib: KoffiLibrary): { vendor: string; get: KoffiFunction; set: KoffiFunction } | null {
  let get: KoffiFunction;
  let set: KoffiFunction;
  try {
    get = lib.func('int openblas_get_num_threads()');
    set = lib.func('void openblas_set_num_threads(int n)');
  } catch {
    return null;
  }
  let vendor = 'OpenBLAS';
  try {
    const config = String(lib.func('const char *openblas_get_config()')() ?? '');
    const core = String(lib.func('const char *openblas_get_corename()')() ?? '');
    const version = /OpenBLAS\s+(\S+)/.exec(config)?.[1];
    vendor = `OpenBLAS${version ? ` ${version}` : ''}${core ? ` (${core})` : ''}`;
  } catch {
    // older OpenBLAS without openblas_get_config/corename: the name alone
  }
  return { vendor, get, set };
}

/**
 * Loads a CBLAS for the wasm backend's matrix multiplies: `koffi` (optional dependency, imported
 * lazily) + the system OpenBLAS, or the library named by `blas` / `VLA_BLAS`. Never throws for a
 * missing or broken piece: `{ ok: false, why }` says which and what to do.
 */
export async function loadBlas(
  opts: LoadBlasOptions = {},
  deps: BlasLoadDeps = { importOptional },
): Promise<BlasLoadResult> {
  const env = opts.env ?? (isNode() ? process.env : {});
  const request = (opts.blas ?? env['VLA_BLAS'] ?? 'auto').trim() || 'auto';
  const fromEnv = opts.blas === undefined && env['VLA_BLAS'] !== undefined;
  if (request.toLowerCase() === 'off') {
    return { ok: false, why: { code: 'disabled', detail: fromEnv ? 'VLA_BLAS=off' : "blas: 'off' requested" } };
  }
  if (!isNode()) return { ok: false, why: { code: 'not-node', detail: 'BLAS through koffi needs Node' } };

  let koffi: KoffiLike;
  try {
    const mod = (await deps.importOptional('koffi')) as { default?: KoffiLike } & Partial<KoffiLike>;
    koffi = (typeof mod.load === 'function' ? mod : mod.default) as KoffiLike;
    if (typeof koffi?.load !== 'function') throw new Error('the koffi module has no load()');
  } catch (err) {
    if (isPackageNotFound(err, 'koffi')) {
      return {
        ok: false,
        why: { code: 'koffi-missing', detail: 'the optional package koffi is not installed (npm i koffi)' },
      };
    }
    return {
      ok: false,
      why: { code: 'koffi-failed', detail: `koffi did not load (${message(err)}); no prebuilt binary here?` },
    };
  }

  const explicit = request.toLowerCase() !== 'auto';
  const candidates = explicit ? [request] : BLAS_CANDIDATES;
  const failures: string[] = [];
  for (const path of candidates) {
    let lib: KoffiLibrary;
    try {
      lib = koffi.load(path);
    } catch (err) {
      failures.push(`${path}: ${message(err)}`);
      continue;
    }
    let sgemm: Sgemm;
    try {
      sgemm = lib.func(SGEMM_DECL) as unknown as Sgemm;
    } catch (err) {
      failures.push(`${path}: no cblas_sgemm (${message(err)})`);
      continue;
    }
    const openblas = describeOpenBlas(lib);
    if (openblas === null && !explicit) {
      failures.push(`${path}: not OpenBLAS (the reference BLAS is slower than XNNPACK)`);
      continue;
    }
    const wanted = opts.threads ?? parseThreads(env['VLA_BLAS_THREADS']);
    let threads: number | null = null;
    if (openblas !== null) {
      const n =
        wanted ?? (parseThreads(env['OPENBLAS_NUM_THREADS']) === undefined ? availableParallelism() : undefined);
      if (n !== undefined) openblas.set(n);
      threads = Number(openblas.get());
    }
    let passed = false;
    try {
      passed = selfTest(sgemm);
    } catch (err) {
      failures.push(`${path}: cblas_sgemm failed (${message(err)})`);
      continue;
    }
    if (!passed) {
      return {
        ok: false,
        why: { code: 'self-test-failed', detail: `${path}: cblas_sgemm gave a wrong 2×3·3×2 product` },
      };
    }
    const somatcopy = loadSomatcopy(lib);
    const setThreads = openblas === null ? null : (n: number): void => void openblas.set(n);
    return {
      ok: true,
      library: { path, vendor: openblas?.vendor ?? 'CBLAS', threads, sgemm, somatcopy, setThreads },
    };
  }
  const noCblas = failures.length > 0 && failures.every((f) => /no cblas_sgemm|not OpenBLAS/.test(f));
  const hint = explicit
    ? `check the path in ${fromEnv ? 'VLA_BLAS' : 'the blas option'}`
    : 'install OpenBLAS (Debian: apt-get install libopenblas0-pthread) or set VLA_BLAS=<path to a CBLAS library>';
  return {
    ok: false,
    why: { code: noCblas ? 'not-cblas' : 'library-not-found', detail: `${failures.join('; ')}; ${hint}` },
  };
}
