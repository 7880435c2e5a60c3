// Runs every ```ts example of README.md (in one child process, in order, importing the package by its
// name) in an empty directory that only links the repository's fixtures/ (the blocks marked
// `ts runnable` need none of them: CI's consumer check runs those against the packed tarball) and
// checks that each one finished.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { expect, it } from 'vitest';

const PKG = fileURLToPath(new URL('..', import.meta.url));
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const blocks = [...readFileSync(join(PKG, 'README.md'), 'utf8').matchAll(/```ts(?: runnable)?\n([\s\S]*?)```/g)].map(
  (m) => m[1]!,
);

it('every README example runs', async () => {
  expect(blocks.length).toBeGreaterThanOrEqual(6);
  const tag = `.readme-example-${process.pid}`;
  const files = blocks.map((_, i) => join(PKG, `${tag}-${i}.mts`));
  const runner = join(PKG, `${tag}-run.mts`);
  await Promise.all(blocks.map((code, i) => writeFile(files[i]!, code)));
  const cwd = await mkdtemp(join(tmpdir(), 'checkpoint-io-readme-'));
  await symlink(join(ROOT, 'fixtures'), join(cwd, 'fixtures'));
  await writeFile(
    runner,
    `process.chdir(${JSON.stringify(cwd)});
for (const [i, f] of ${JSON.stringify(files.map((f) => pathToFileURL(f).href))}.entries()) {
  try { await import(f); console.log('EXAMPLE', i + 1, 'OK'); }
  catch (e) { console.log('EXAMPLE', i + 1, 'FAILED', e instanceof Error ? e.stack : e); process.exitCode = 1; }
}\n`,
  );
  try {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', runner], { cwd: ROOT }, (err, out) =>
        resolve({ code: err ? 1 : 0, stdout: out }),
      );
    });
    const failed = stdout.split('\n').filter((l) => l.startsWith('EXAMPLE') && !l.endsWith('OK'));
    expect(failed, stdout).toEqual([]);
    expect(stdout.split('\n').filter((l) => /^EXAMPLE \d+ OK$/.test(l))).toHaveLength(blocks.length);
    expect(code).toBe(0);
  } finally {
    await Promise.all([...files, runner, cwd].map((f) => rm(f, { recursive: true, force: true })));
  }
});
