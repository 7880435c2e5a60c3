// Parsing a commander program that neither prints nor exits: what it would print is captured, and its exits
// (--help, --version, a parse error) come back as results. cli-kit does not depend on commander: these are the calls used.

/** The part of commander's `Command` that captureParse uses. */
export interface CapturableProgram {
  exitOverride(): unknown;
  configureOutput(output: { writeOut(text: string): void; writeErr(text: string): void }): unknown;
  parse(argv: readonly string[], options: { from: 'user' }): unknown;
}

export type ParseOutcome =
  /** The actions ran. */
  | { kind: 'parsed' }
  /** --help, `help <command>` or --version: what commander printed. */
  | { kind: 'help'; text: string }
  /** A parse error: commander's message (`error: …`) and what it printed (the message, suggestions). */
  | { kind: 'error'; message: string; printed: string };

const HELP_CODES: ReadonlySet<string> = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/**
 * Makes `program` capture its output and throw instead of exiting. Call it when the program is created, before its
 * subcommands (they copy these settings when they are added); then `parse(argv)` (user arguments) runs the actions.
 * An error that is not commander's (e.g. a CLI's UsageError thrown by an action or an option parser) propagates.
 */
export function captureParse(program: CapturableProgram): (argv: readonly string[]) => ParseOutcome {
  let printed = '';
  const write = (text: string): void => {
    printed += text;
  };
  program.exitOverride();
  program.configureOutput({ writeOut: write, writeErr: write });
  return (argv) => {
    printed = '';
    try {
      program.parse(argv, { from: 'user' });
      return { kind: 'parsed' };
    } catch (err) {
      const e = err as { code?: unknown; message?: unknown } | null;
      if (!(err instanceof Error) || typeof e?.code !== 'string' || !e.code.startsWith('commander.')) throw err;
      if (HELP_CODES.has(e.code)) return { kind: 'help', text: printed };
      return { kind: 'error', message: err.message, printed };
    }
  };
}
