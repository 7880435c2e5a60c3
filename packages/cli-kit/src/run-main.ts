// The one way an @vla-lora CLI ends: typed errors become one line and a documented exit code,
// unexpected ones print their stack.
import { UsageError } from './errors.js';

/** The exit codes of every @vla-lora CLI (README: "Exit codes"). */
export const EXIT_CODES = Object.freeze({
  ok: 0,
  /** A typed error (input refused, verification failed, differences found) or an unexpected error (with its stack). */
  failure: 1,
  /** A bad command line: unknown command or flag, missing argument, a value the CLI cannot use. */
  usage: 2,
  /** A pickle names globals outside the allow-list (checkpoint-io's UnsafePickleError, dcp-merge's DcpUnsafePickleError): the file may be hostile. */
  unsafePickle: 3,
});

/** Codes every CLI gives by error name (so an app need not import the class): a hostile pickle is 3. */
export const DEFAULT_EXIT_CODES: ReadonlyArray<readonly [string, number]> = Object.freeze([
  ['UnsafePickleError', EXIT_CODES.unsafePickle],
  ['DcpUnsafePickleError', EXIT_CODES.unsafePickle],
] as const);

// biome-ignore lint/suspicious/noExplicitAny: any constructor of an Error subclass
export type ErrorClass = abstract new (...args: any[]) => Error;

export interface RunMainOptions {
  /** The program name that starts every error line (`vla-ckpt: UnsafePickleError: …`). */
  name: string;
  /**
   * The typed error classes (a package's `errors.ts` bases): printed as one line, no stack. Default (an app
   * composing many packages): every error whose class is not one of JavaScript's built-in ones.
   */
  typedErrors?: readonly ErrorClass[];
  /** Errors that are usage errors (exit 2), besides commander's parse errors and cli-kit's UsageError. */
  usageErrors?: readonly ErrorClass[];
  /**
   * Other codes, first match wins (the error or any error in its `cause` chain), by class or by error name,
   * e.g. `[[UnsafePickleError, EXIT_CODES.unsafePickle]]`. After these, `DEFAULT_EXIT_CODES` apply.
   */
  exitCodes?: ReadonlyArray<readonly [ErrorClass | string, number]>;
  /** Where the error line goes (default process.stderr). */
  err?: (text: string) => void;
  /** Print stacks of typed errors too (default: when the VLA_DEBUG environment variable is set). */
  debug?: boolean;
  /** Set `process.exitCode` (default true; false for a CLI run in-process by its tests). */
  setExitCode?: boolean;
}

/** commander's CommanderError, recognised by shape (cli-kit does not depend on commander). */
function commanderExit(err: unknown): number | null {
  const e = err as { code?: unknown; exitCode?: unknown } | null;
  return e && typeof e.code === 'string' && e.code.startsWith('commander.') && typeof e.exitCode === 'number'
    ? e.exitCode
    : null;
}

function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e = err; e !== undefined && e !== null && chain.length < 16; e = (e as { cause?: unknown }).cause) {
    chain.push(e);
    if (typeof e !== 'object') break;
  }
  return chain;
}

/** The exit code `runMain` gives `err`. */
export function exitCodeFor(err: unknown, opts: Omit<RunMainOptions, 'name' | 'err' | 'debug'>): number {
  const commander = commanderExit(err);
  if (commander !== null) return commander === 0 ? EXIT_CODES.ok : EXIT_CODES.usage; // --help: 0; parse errors: 2
  if (err instanceof UsageError || opts.usageErrors?.some((c) => err instanceof c)) return EXIT_CODES.usage;
  const chain = causes(err);
  const matches = (e: unknown, rule: ErrorClass | string): boolean =>
    typeof rule === 'string' ? (e as { name?: unknown } | null)?.name === rule : e instanceof rule;
  for (const [rule, code] of [...(opts.exitCodes ?? []), ...DEFAULT_EXIT_CODES]) {
    if (chain.some((e) => matches(e, rule))) return code;
  }
  return EXIT_CODES.failure;
}

/**
 * Runs `main` (which returns an exit code, or nothing for 0; `null` leaves `process.exitCode` alone, for
 * a server that keeps running) and sets `process.exitCode`. A thrown typed error prints
 * `<name>: <ErrorName>: <message>` on one line (no stack); an unexpected error prints its stack.
 * commander's own errors print what commander printed: --help / --version exit 0, a parse error exits 2.
 */
export async function runMain(
  main: () => Promise<number | undefined | null | void>,
  opts: RunMainOptions,
): Promise<number | null> {
  let code: number | null;
  try {
    const r = (await main()) as number | null | undefined;
    code = r === undefined ? EXIT_CODES.ok : r;
  } catch (err) {
    code = exitCodeFor(err, opts);
    if (commanderExit(err) === null) (opts.err ?? ((t) => process.stderr.write(t)))(errorText(err, opts));
  }
  if (code !== null && opts.setExitCode !== false) process.exitCode = code;
  return code;
}

/** What `runMain` prints for `err`. */
export function errorText(err: unknown, opts: Pick<RunMainOptions, 'name' | 'typedErrors' | 'debug'>): string {
  const typed =
    err instanceof UsageError ||
    (opts.typedErrors ? opts.typedErrors.some((c) => err instanceof c) : isDeclaredError(err)) ||
    isSystemError(err);
  const e = err as Partial<Error> | null;
  if (!typed || !(err instanceof Error)) {
    return `${opts.name}: ${err instanceof Error ? (err.stack ?? `${err.name}: ${err.message}`) : String(err)}\n`;
  }
  const name = e?.name && e.name !== 'Error' ? `${e.name}: ` : '';
  const line = `${opts.name}: ${name}${String(e?.message ?? '').replace(/\s*\n\s*/g, ' ')}\n`;
  const debug = opts.debug ?? Boolean(process.env['VLA_DEBUG']);
  return debug && e?.stack ? `${line}${e.stack}\n` : line;
}

/** A Node system error (ENOENT, EACCES, ENOSPC …): its message names the path and the call; no stack needed. */
function isSystemError(err: unknown): boolean {
  const e = err as { code?: unknown; syscall?: unknown } | null;
  return err instanceof Error && typeof e?.code === 'string' && typeof e.syscall === 'string';
}

const BUILT_IN: ReadonlySet<unknown> = new Set([
  Error,
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
  AggregateError,
]);

/** An error of a class some package declared (not JavaScript's own Error, TypeError …). */
function isDeclaredError(err: unknown): boolean {
  return err instanceof Error && !BUILT_IN.has(Object.getPrototypeOf(err)?.constructor);
}

/**
 * `runMain` around a commander program: parses `argv` (user arguments), returns the exit code and leaves
 * `process.exitCode` to the caller (the CLI's entry sets it; its tests call this in-process).
 */
export async function runProgram(
  program: { parseAsync(argv: readonly string[], opts: { from: 'user' }): Promise<unknown> },
  argv: readonly string[],
  opts: RunMainOptions,
): Promise<number> {
  const code = await runMain(
    async () => {
      await program.parseAsync(argv, { from: 'user' });
    },
    { setExitCode: false, ...opts },
  );
  return code ?? EXIT_CODES.ok;
}
