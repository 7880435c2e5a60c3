/**
 * Runs the CLI entry `entry` (default `'cli'`) of the package that owns the bin file at `binUrl`
 * (`import.meta.url` of `<package>/bin/<name>.mjs`): `src/<entry>.ts` through tsx inside the monorepo,
 * `dist/<entry>.js` when installed. `--version` (or `-V`) as the only argument prints the package's
 * version from its own package.json.
 */
export declare function runBin(binUrl: string | URL, entry?: string): Promise<void>;
/** Which file `runBin` runs for `entry` in the package directory `root` (a URL ending with '/'). */
export declare function resolveEntry(root: URL, entry: string): { kind: 'source' | 'dist'; url: URL };
/** The `version` field of `<root>/package.json`. */
export declare function packageVersion(root: URL): string;
