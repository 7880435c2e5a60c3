// Small helpers around dynamic import: optional packages and "is it installed?".

/** True when `err` says that package `pkg` itself (not something inside it) cannot be found. */
export function isPackageNotFound(err: unknown, pkg: string): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  const message = String((err as { message?: unknown }).message ?? '');
  const notFound =
    code === 'ERR_MODULE_NOT_FOUND' ||
    code === 'MODULE_NOT_FOUND' ||
    /Cannot find (package|module)|Could not resolve|Failed to (load|resolve)/i.test(message);
  if (!notFound) return false;
  return (
    message.includes(`'${pkg}'`) || message.includes(`"${pkg}"`) || message.includes(`${pkg}/`) || message.endsWith(pkg)
  );
}

/** Imports a package by a computed name so that bundlers leave optional peers (tfjs-node) alone. */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

export const importOptional: ModuleImporter = (specifier) => import(/* @vite-ignore */ specifier);
