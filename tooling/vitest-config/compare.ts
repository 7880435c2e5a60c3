// Numeric comparison for tests and benches of every package (`@vla-lora/vitest-config/compare`): repo-only,
// a devDependency of each package, never in any dist.

/** The largest |a[i] - b[i]| (0 for empty arrays); throws when the lengths differ. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
