// Test helper: temp dirs on tmpfs where there is one (the atomic writers fsync every file, which costs
// seconds per test on a slow VM disk), else in os.tmpdir().
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function testTmpDir(prefix: string): Promise<string> {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtemp(join(base, prefix));
}
