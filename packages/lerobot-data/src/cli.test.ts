import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.js';
import { computeNormStatsCommand } from './commands.js';
import { loadNormStats } from './norm-stats.js';
import { tempDir } from '../test-support/helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('cli');
});
afterAll(() => tmp.cleanup());

describe('CLI', () => {
  it('generate → inspect → compute-norm-stats (train split by default)', async () => {
    const lines: string[] = [];
    const out = (l: string): void => {
      lines.push(l);
    };
    const root = join(tmp.dir, 'ds');
    expect(
      await runCli(
        ['generate', root, '--episodes', '4', '--held-out', '2', '--steps', '8', '--image-size', '8', '--seed', '3'],
        out,
        false,
      ),
    ).toBe(0);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'generated', episodes: 6, frames: 48, train: 4, heldOut: 2 });
    expect(await runCli(['inspect', root, '--check-images'], out, false)).toBe(0);
    expect(JSON.parse(lines[1]!)).toMatchObject({
      event: 'dataset',
      version: 'v2.1',
      episodes: 6,
      imagesChecked: 96,
      splits: { train: '0:4', test: '4:6' },
    });
    const statsOut = join(tmp.dir, 'assets');
    expect(await runCli(['compute-norm-stats', root, '--out', statsOut, '--action-horizon', '10'], out, false)).toBe(0);
    expect(JSON.parse(lines[2]!)).toMatchObject({
      event: 'norm_stats',
      path: join(statsOut, 'norm_stats.json'),
      frames: 32,
      episodes: 4,
    });
    const viaFn = await computeNormStatsCommand({ dataset: root, out: join(tmp.dir, 'fn.json'), actionHorizon: 10 });
    expect((await loadNormStats(statsOut)).actions.mean).toEqual(viaFn.stats.actions.mean);
    expect(await runCli(['frobnicate', root], out, false)).toBe(2);
  });

  it('--help / -h / help print the usage and exit 0; no command is a usage error', async () => {
    for (const argv of [['--help'], ['-h'], ['help'], ['generate', '--help']]) {
      const lines: string[] = [];
      expect(await runCli(argv, (l) => lines.push(l), false)).toBe(0);
      expect(lines.join('\n')).toMatch(/^usage:\n {2}lerobot-data generate/);
    }
    expect(await runCli([], () => {}, false)).toBe(2);
  });

  it('the bin runs from any cwd and reports typed errors on stderr with exit code 1', async () => {
    const bin = fileURLToPath(new URL('../bin/lerobot-data.mjs', import.meta.url));
    const run = promisify(execFile);
    const missing = join(tmp.dir, 'nothing-here');
    const err = await run(process.execPath, [bin, 'inspect', missing], { cwd: tmp.dir }).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((err as { code: number }).code).toBe(1);
    expect((err as { stderr: string }).stderr).toMatch(
      /MissingMetaFileError: .*nothing-here\/meta\/info\.json is missing/,
    );
  });
});
