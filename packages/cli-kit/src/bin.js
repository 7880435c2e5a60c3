// The one bin shim of every @vla-lora CLI. A package's `bin/<name>.mjs` is two lines:
//   import { runBin } from '@vla-lora/cli-kit/bin';
//   await runBin(import.meta.url, 'cli');
// Installed from npm (no `src/` in the tarball) it runs the compiled `dist/<entry>.js`. Inside the
// monorepo it always runs `src/<entry>.ts` through tsx, before and after any `pnpm build`: the in-repo
// `exports` of sibling packages point at their TypeScript sources, which only tsx can load, so running
// a package's `dist/` there would import siblings' `.ts` files in plain Node. Plain JavaScript on
// purpose: it must run before anything is built.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * Runs the CLI entry `entry` of the package that owns the bin file at `binUrl` (`import.meta.url`
 * of `<package>/bin/<name>.mjs`). `--version` (or `-V`) as the only argument prints the package's
 * version from its own package.json and runs nothing else.
 * @param {string | URL} binUrl
 * @param {string} [entry]
 * @returns {Promise<void>}
 */
export async function runBin(binUrl, entry = 'cli') {
  const root = new URL('../', binUrl);
  const args = process.argv.slice(2);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
    process.stdout.write(`${packageVersion(root)}\n`);
    return;
  }
  const target = resolveEntry(root, entry);
  if (target.kind === 'source') {
    const { register } = await import('tsx/esm/api');
    register();
  }
  await import(target.url.href);
}

/**
 * Which file `runBin` runs: the TypeScript source when the package has one (the monorepo), else the
 * compiled `dist/` (an installed tarball).
 * @param {URL} root package directory URL (ends with '/')
 * @param {string} entry
 * @returns {{ kind: 'source' | 'dist', url: URL }}
 */
export function resolveEntry(root, entry) {
  const src = new URL(`src/${entry}.ts`, root);
  if (existsSync(fileURLToPath(src))) return { kind: 'source', url: src };
  const dist = new URL(`dist/${entry}.js`, root);
  if (existsSync(fileURLToPath(dist))) return { kind: 'dist', url: pathToFileURL(fileURLToPath(dist)) };
  throw new Error(
    `${fileURLToPath(root)} has neither src/${entry}.ts nor dist/${entry}.js: reinstall the package ` +
      '(its tarball ships dist/), or run `pnpm build` in the repository',
  );
}

/**
 * The `version` field of `<root>/package.json`.
 * @param {URL} root
 * @returns {string}
 */
export function packageVersion(root) {
  const pkg = JSON.parse(readFileSync(fileURLToPath(new URL('package.json', root)), 'utf8'));
  if (typeof pkg.version !== 'string') throw new Error(`${fileURLToPath(root)}package.json has no "version"`);
  return pkg.version;
}
