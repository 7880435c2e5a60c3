// The command line of the bench scripts and scripts/gen-full-pi0.ts: `--name value` flags and one positional.

export interface CommandLine {
  /** The value after `--name`, or `dflt` when the flag or its value is missing. */
  flag: (name: string, dflt: string) => string;
  /** The first argument that is neither a flag nor the value following one. */
  positional: string | undefined;
}

export function commandLine(args: readonly string[]): CommandLine {
  return {
    flag: (name, dflt) => {
      const i = args.indexOf(`--${name}`);
      return i >= 0 && args[i + 1] !== undefined ? args[i + 1]! : dflt;
    },
    positional: args.find((a, i) => !a.startsWith('--') && (i === 0 || !args[i - 1]!.startsWith('--'))),
  };
}
