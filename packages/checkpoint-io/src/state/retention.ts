// Retention: keep the last K checkpoints and/or every N-th step; never the one `latest` names.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { LATEST_POINTER, listStepDirs } from './layout.js';
import type { RetentionPolicy } from './types.js';

/** Which step-dir names a policy keeps, given all of them (oldest first) and the `latest` target. */
export function selectRetained(
  all: Array<{ name: string; step: number }>,
  policy: RetentionPolicy,
  latest: string | null,
): Set<string> {
  const keep = new Set<string>();
  if (policy.keepLast === undefined && policy.keepEvery === undefined) {
    for (const d of all) keep.add(d.name);
    return keep;
  }
  if (policy.keepLast !== undefined) {
    if (!Number.isInteger(policy.keepLast) || policy.keepLast < 1)
      throw new RangeError(`keepLast must be an integer >= 1, got ${policy.keepLast}`);
    for (const d of all.slice(-policy.keepLast)) keep.add(d.name);
  }
  if (policy.keepEvery !== undefined) {
    if (!Number.isInteger(policy.keepEvery) || policy.keepEvery < 1)
      throw new RangeError(`keepEvery must be an integer >= 1, got ${policy.keepEvery}`);
    for (const d of all) if (d.step % policy.keepEvery === 0) keep.add(d.name);
  }
  if (latest) keep.add(latest);
  return keep;
}

/** Deletes step directories the policy does not keep; returns their names. */
export async function applyRetention(checkpointsDir: string, policy: RetentionPolicy): Promise<string[]> {
  const all = await listStepDirs(checkpointsDir);
  let latest: string | null = null;
  try {
    latest = (await readFile(join(checkpointsDir, LATEST_POINTER), 'utf8')).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const keep = selectRetained(all, policy, latest);
  const removed: string[] = [];
  for (const d of all) {
    if (keep.has(d.name)) continue;
    await rm(join(checkpointsDir, d.name), { recursive: true, force: true });
    removed.push(d.name);
  }
  return removed;
}
