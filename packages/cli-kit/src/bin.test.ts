import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageVersion, resolveEntry } from './bin.js';

const run = promisify(execFile);
const shim = pathToFileURL(join(import.meta.dirname, 'bin.js')).href;
let tmp: string;

/** A fake package `<tmp>/<name>` with a bin that calls runBin, and the given source/dist entries. */
async function fakePackage(name: string, files: { src?: string; dist?: string }): Promise<string> {
  const dir = join(tmp, name);
  await mkdir(join(dir, 'bin'), { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name, version: '1.2.3', type: 'module' }));
  await writeFile(
    join(dir, 'bin', 'tool.mjs'),
    `import { runBin } from ${JSON.stringify(shim)};\nawait runBin(import.meta.url, 'cli');\n`,
  );
  if (files.src !== undefined) {
    await mkdir(join(dir, 'src'), { recursive: true });
    await writeFile(join(dir, 'src', 'cli.ts'), files.src);
  }
  if (files.dist !== undefined) {
    await mkdir(join(dir, 'dist'), { recursive: true });
    await writeFile(join(dir, 'dist', 'cli.js'), files.dist);
  }
  return join(dir, 'bin', 'tool.mjs');
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'cli-kit-'));
});
afterAll(() => rm(tmp, { recursive: true, force: true }));

describe('runBin', () => {
  it('runs the TypeScript source through tsx when the package has one, even when dist/ exists', async () => {
    const bin = await fakePackage('both', {
      src: 'const args: string[] = process.argv.slice(2);\nconsole.log("source " + args.join(" "));\n',
      dist: 'console.log("dist");\n',
    });
    const { stdout } = await run(process.execPath, [bin, 'a', '--b']);
    expect(stdout).toBe('source a --b\n');
  });

  it('runs dist/<entry>.js when there is no source (an installed tarball)', async () => {
    const bin = await fakePackage('dist-only', { dist: 'console.log("dist " + process.argv.slice(2).join(" "));\n' });
    const { stdout } = await run(process.execPath, [bin, 'x']);
    expect(stdout).toBe('dist x\n');
  });

  it('--version alone prints the package.json version and runs nothing', async () => {
    const bin = await fakePackage('version', { dist: 'console.log("ran"); process.exitCode = 3;\n' });
    expect((await run(process.execPath, [bin, '--version'])).stdout).toBe('1.2.3\n');
    expect((await run(process.execPath, [bin, '-V'])).stdout).toBe('1.2.3\n');
    // with other arguments, --version belongs to the CLI
    await expect(run(process.execPath, [bin, 'cmd', '--version'])).rejects.toMatchObject({ code: 3, stdout: 'ran\n' });
  });

  it('exit codes set by the entry pass through', async () => {
    const bin = await fakePackage('exit', { dist: 'process.exitCode = 7;\n' });
    await expect(run(process.execPath, [bin])).rejects.toMatchObject({ code: 7 });
  });

  it('says what to do when the package has neither source nor dist', async () => {
    await fakePackage('empty', {});
    const root = pathToFileURL(join(tmp, 'empty/'));
    expect(() => resolveEntry(root, 'cli')).toThrow(/neither src\/cli\.ts nor dist\/cli\.js.*pnpm build/);
    expect(packageVersion(root)).toBe('1.2.3');
  });
});
