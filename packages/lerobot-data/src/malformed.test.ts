// Damaged copies of a generated dataset must fail with typed errors that name the file and the fix.
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeRobotDataset } from './dataset.js';
import {
  BadImageError,
  EpisodeIndexGapError,
  FrameIndexError,
  InvalidMetaError,
  MissingColumnError,
  MissingDataFileError,
  MissingMetaFileError,
  ShapeMismatchError,
  UnsupportedFeatureError,
  UnsupportedVersionError,
} from './errors.js';
import { generateLiberoDataset } from './generator.js';
import { LiberoView } from './libero.js';
import { rewriteEpisode, tempDir } from '../test-support/helpers.js';

let tmp: Awaited<ReturnType<typeof tempDir>>;
let pristine: string;
let n = 0;
const EP1 = 'data/chunk-000/episode_000001.parquet';

beforeAll(async () => {
  tmp = await tempDir('bad');
  pristine = join(tmp.dir, 'pristine');
  await generateLiberoDataset(pristine, { episodes: 3, heldOut: 0, steps: 6, imageSize: 16, seed: 1 });
});
afterAll(() => tmp.cleanup());

async function copy(): Promise<string> {
  const d = join(tmp.dir, `copy${n++}`);
  await cp(pristine, d, { recursive: true });
  return d;
}

async function editJson(path: string, edit: (v: Record<string, unknown>) => void): Promise<void> {
  const v = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  edit(v);
  await writeFile(path, JSON.stringify(v));
}

async function openError(root: string): Promise<Error> {
  return LeRobotDataset.open(root).then(
    () => {
      throw new Error('expected LeRobotDataset.open to fail');
    },
    (e: Error) => e,
  );
}

describe('malformed datasets', () => {
  it('opens the pristine copy (control)', async () => {
    const ds = await LeRobotDataset.open(pristine);
    expect(ds.length).toBe(18);
    expect(await ds.validateImages()).toBe(36);
  });

  it('missing meta files', async () => {
    for (const f of ['info.json', 'episodes.jsonl', 'tasks.jsonl', 'episodes_stats.jsonl']) {
      const d = await copy();
      await rm(join(d, 'meta', f));
      const e = await openError(d);
      expect(e, f).toBeInstanceOf(MissingMetaFileError);
      expect(e.message).toContain(join(d, 'meta', f));
    }
    // v2.0 needs stats.json
    const d = await copy();
    await editJson(join(d, 'meta/info.json'), (v) => (v['codebase_version'] = 'v2.0'));
    await rm(join(d, 'meta/stats.json'));
    expect(await openError(d)).toBeInstanceOf(MissingMetaFileError);
  });

  it('unsupported versions and broken JSON', async () => {
    const d = await copy();
    await editJson(join(d, 'meta/info.json'), (v) => (v['codebase_version'] = 'v3.0'));
    expect(await openError(d)).toBeInstanceOf(UnsupportedVersionError);
    const d2 = await copy();
    await writeFile(join(d2, 'meta/tasks.jsonl'), '{"task_index": 0, "task": "a"}\n{oops\n');
    const e = await openError(d2);
    expect(e).toBeInstanceOf(InvalidMetaError);
    expect(e.message).toMatch(/tasks\.jsonl: line 2: invalid JSON/);
  });

  it('episode index gaps, duplicates and counts that disagree with info.json', async () => {
    const d = await copy();
    const path = join(d, 'meta/episodes.jsonl');
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    await writeFile(path, [lines[0], lines[2]].join('\n'));
    await editJson(join(d, 'meta/info.json'), (v) => {
      v['total_episodes'] = 2;
      v['total_frames'] = 12;
    });
    const e = await openError(d);
    expect(e).toBeInstanceOf(EpisodeIndexGapError);
    expect(e.message).toMatch(/episode_index 1 missing/);
    const d2 = await copy();
    await writeFile(join(d2, 'meta/episodes.jsonl'), [lines[0], lines[1], lines[1]].join('\n'));
    expect((await openError(d2)).message).toMatch(/episode_index 1 listed more than once/);
    const d3 = await copy();
    await editJson(join(d3, 'meta/info.json'), (v) => (v['total_episodes'] = 4));
    expect((await openError(d3)).message).toMatch(/lists 3 episodes but meta\/info\.json says total_episodes=4/);
  });

  it('a missing episode file', async () => {
    const d = await copy();
    await rm(join(d, EP1));
    const e = await openError(d);
    expect(e).toBeInstanceOf(MissingDataFileError);
    expect(e.message).toContain('episode_000001.parquet (episode 1) is missing');
  });

  it('missing columns (a feature and a bookkeeping column)', async () => {
    for (const col of ['actions', 'frame_index', 'wrist_image']) {
      const d = await copy();
      await rewriteEpisode(join(d, EP1), () => undefined, [col]);
      const e = await openError(d);
      expect(e, col).toBeInstanceOf(MissingColumnError);
      expect(e.message).toContain(`column "${col}" is missing`);
      expect(e.message).toContain('episode_000001.parquet');
    }
  });

  it('wrong vector lengths and non-numbers', async () => {
    const d = await copy();
    await rewriteEpisode(join(d, EP1), (rows) => {
      rows[2]!['state'] = (rows[2]!['state'] as number[]).slice(0, 7);
    });
    const e = await openError(d);
    expect(e).toBeInstanceOf(ShapeMismatchError);
    expect(e.message).toMatch(/column "state" row 2 has 7 values but meta\/info\.json declares shape \[8\]/);
    const d2 = await copy();
    await editJson(join(d2, 'meta/info.json'), (v) => {
      (v['features'] as Record<string, { shape: number[] }>)['actions']!.shape = [6];
    });
    expect(await openError(d2)).toBeInstanceOf(ShapeMismatchError);
  });

  it('row counts and frame bookkeeping that do not add up', async () => {
    const d = await copy();
    await rewriteEpisode(join(d, EP1), (rows) => rows.pop());
    expect((await openError(d)).message).toMatch(/has 5 rows but meta\/episodes\.jsonl says episode 1 has length 6/);
    const d2 = await copy();
    await rewriteEpisode(join(d2, EP1), (rows) => {
      rows[3]!['frame_index'] = 4n;
    });
    expect(await openError(d2)).toBeInstanceOf(FrameIndexError);
    const d3 = await copy();
    await rewriteEpisode(join(d3, EP1), (rows) => {
      rows[4]!['timestamp'] = 0.9;
    });
    expect((await openError(d3)).message).toMatch(/timestamp jumps/);
    const d4 = await copy();
    await rewriteEpisode(join(d4, EP1), (rows) => {
      rows[0]!['task_index'] = 9n;
    });
    expect((await openError(d4)).message).toMatch(/task_index 9 at row 0 is not in meta\/tasks\.jsonl/);
  });

  it('bad PNG bytes and wrong image sizes surface when the frame is read', async () => {
    const d = await copy();
    await rewriteEpisode(join(d, EP1), (rows) => {
      rows[2]!['image'] = { bytes: new TextEncoder().encode('GIF89a not a png'), path: 'frame_000002.png' };
    });
    const ds = await LeRobotDataset.open(d);
    await expect(ds.frame(6 + 1, { images: true })).resolves.toBeDefined();
    const e = await ds.frame(6 + 2, { images: ['image'] }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(BadImageError);
    expect((e as Error).message).toMatch(/image "image" at row 2 is not a valid PNG/);
    await expect(ds.validateImages()).rejects.toBeInstanceOf(BadImageError);
    const view = new LiberoView(ds);
    await expect(view.sample(8)).rejects.toBeInstanceOf(BadImageError);
    const d2 = await copy();
    await editJson(join(d2, 'meta/info.json'), (v) => {
      (v['features'] as Record<string, { shape: number[] }>)['image']!.shape = [32, 32, 3];
    });
    const ds2 = await LeRobotDataset.open(d2);
    await expect(ds2.frame(0, { images: true })).rejects.toThrow(
      /decodes to 16x16 but meta\/info\.json declares 32x32/,
    );
  });

  it('images stored by path only, and video features', async () => {
    const d = await copy();
    await rewriteEpisode(join(d, EP1), (rows) => {
      rows[0]!['wrist_image'] = { bytes: null, path: '/elsewhere/frame_000000.png' };
    });
    const ds = await LeRobotDataset.open(d);
    await expect(ds.frame(6, { images: true })).rejects.toThrow(
      /has no embedded bytes \(only a path: \/elsewhere\/frame_000000\.png\)/,
    );
    const d2 = await copy();
    await editJson(join(d2, 'meta/info.json'), (v) => {
      (v['features'] as Record<string, { dtype: string }>)['image']!.dtype = 'video';
    });
    const e = await openError(d2);
    expect(e).toBeInstanceOf(UnsupportedFeatureError);
    expect(e.message).toMatch(/use_videos=False/);
  });

  it('a LIBERO view over a dataset without the openpi keys says which is missing', async () => {
    const ds = await LeRobotDataset.open(pristine);
    expect(() => new LiberoView(ds, { keys: { state: 'observation.state' } })).toThrow(MissingColumnError);
    expect(() => new LiberoView(ds, { keys: { state: 'observation.state' } })).toThrow(
      /"observation\.state" is missing/,
    );
  });
});
