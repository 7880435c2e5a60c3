// Name filters on dotted parameter paths. Patterns match whole path segments, never substrings
// ("lm_head" does not match "lm_head_extra"): a glob is anchored at both ends, `*` stays within one
// segment, `**` spans segments. `re:<regex>` gives a raw regex (searched, not anchored).
import { ZeroMergeUsageError } from './errors.js';

function globToRegExp(glob: string): RegExp {
  let src = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        src += '.*';
        i++;
      } else src += '[^.]*';
    } else if (c === '?') src += '[^.]';
    else src += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${src}$`);
}

/** Compiles one pattern to a predicate on full dotted names. */
export function compilePattern(pattern: string): (name: string) => boolean {
  if (pattern.startsWith('re:')) {
    let re: RegExp;
    try {
      re = new RegExp(pattern.slice(3));
    } catch (err) {
      throw new ZeroMergeUsageError(`bad regex in pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
    }
    return (n) => re.test(n);
  }
  if (pattern === '') throw new ZeroMergeUsageError('empty name pattern');
  const re = globToRegExp(pattern);
  return (n) => re.test(n);
}

/** include (any of; all when empty) minus exclude (any of). */
export function nameFilter(
  include: readonly string[] = [],
  exclude: readonly string[] = [],
): (name: string) => boolean {
  const inc = include.map(compilePattern);
  const exc = exclude.map(compilePattern);
  return (n) => (inc.length === 0 || inc.some((f) => f(n))) && !exc.some((f) => f(n));
}

/**
 * True when the dotted `name` contains `modulePath`'s segments as a contiguous run (PEFT's
 * modules_to_save matches a module by its name or a dotted suffix; we also accept it anywhere so
 * that "regression_head" finds "regression_head.out.weight"). Segments may use `*` globs.
 */
export function containsModule(name: string, modulePath: string): boolean {
  const segs = name.split('.');
  const pat = modulePath.split('.').map((s) => globToRegExp(s));
  for (let i = 0; i + pat.length <= segs.length; i++) {
    if (pat.every((re, j) => re.test(segs[i + j]!))) return true;
  }
  return false;
}
