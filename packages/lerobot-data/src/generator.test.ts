import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parquetMetadata } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeRobotDataset } from './dataset.js';
import { generateLiberoDataset } from './generator.js';
import { Rng } from './rng.js';
import { simulateEpisode, SIM_TASKS } from './sim-task.js';
import { readRows, tempDir } from '../test-support/helpers.js';

async function treeHash(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else
        out.set(
          relative(root, p),
          createHash('sha256')
            .update(await readFile(p))
            .digest('hex'),
        );
    }
  }
  await walk(root);
  return out;
}

let tmp: Awaited<ReturnType<typeof tempDir>>;
beforeAll(async () => {
  tmp = await tempDir('gen');
});
afterAll(() => tmp.cleanup());

describe('generateLiberoDataset', () => {
  it("writes exactly the LeRobot v2.1 layout openpi's LIBERO conversion produces", async () => {
    const root = join(tmp.dir, 'a');
    const r = await generateLiberoDataset(root, {
      episodes: 5,
      heldOut: 2,
      steps: 12,
      imageSize: 16,
      seed: 7,
      chunksSize: 4,
    });
    expect(r.trainEpisodes).toEqual([0, 1, 2, 3, 4]);
    expect(r.heldOutEpisodes).toEqual([5, 6]);
    const files = [...(await treeHash(root)).keys()].sort();
    expect(files).toEqual([
      'data/chunk-000/episode_000000.parquet',
      'data/chunk-000/episode_000001.parquet',
      'data/chunk-000/episode_000002.parquet',
      'data/chunk-000/episode_000003.parquet',
      'data/chunk-001/episode_000004.parquet',
      'data/chunk-001/episode_000005.parquet',
      'data/chunk-001/episode_000006.parquet',
      'meta/episodes.jsonl',
      'meta/episodes_stats.jsonl',
      'meta/info.json',
      'meta/stats.json',
      'meta/tasks.jsonl',
    ]);
    const info = JSON.parse(await readFile(join(root, 'meta/info.json'), 'utf8')) as Record<string, unknown>;
    expect(info).toMatchObject({
      codebase_version: 'v2.1',
      robot_type: 'panda',
      total_episodes: 7,
      total_frames: 84,
      total_tasks: 4,
      total_videos: 0,
      total_chunks: 2,
      chunks_size: 4,
      fps: 10,
      splits: { train: '0:5', test: '5:7' },
      data_path: 'data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet',
      video_path: null,
    });
    expect(info['features']).toEqual({
      image: { dtype: 'image', shape: [16, 16, 3], names: ['height', 'width', 'channel'] },
      wrist_image: { dtype: 'image', shape: [16, 16, 3], names: ['height', 'width', 'channel'] },
      state: { dtype: 'float32', shape: [8], names: ['state'] },
      actions: { dtype: 'float32', shape: [7], names: ['actions'] },
      timestamp: { dtype: 'float32', shape: [1], names: null },
      frame_index: { dtype: 'int64', shape: [1], names: null },
      episode_index: { dtype: 'int64', shape: [1], names: null },
      index: { dtype: 'int64', shape: [1], names: null },
      task_index: { dtype: 'int64', shape: [1], names: null },
    });
    const tasks = (await readFile(join(root, 'meta/tasks.jsonl'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(tasks).toEqual(SIM_TASKS.map((task, task_index) => ({ task_index, task })));
    const ep5 = (await readFile(join(root, 'meta/episodes.jsonl'), 'utf8')).trim().split('\n')[5]!;
    expect(JSON.parse(ep5)).toEqual({ episode_index: 5, tasks: [expect.any(String)], length: 12 });
    // the parquet columns: struct<bytes, path> images holding PNG, float lists, int64 bookkeeping
    const rows = await readRows(join(root, 'data/chunk-001/episode_000005.parquet'));
    expect(rows).toHaveLength(12);
    const row = rows[3]!;
    expect(Object.keys(row)).toEqual([
      'image',
      'wrist_image',
      'state',
      'actions',
      'timestamp',
      'frame_index',
      'episode_index',
      'index',
      'task_index',
    ]);
    const img = row['image'] as { bytes: Uint8Array; path: string };
    expect(Array.from(img.bytes.subarray(1, 4))).toEqual([0x50, 0x4e, 0x47]); // "PNG"
    expect(img.path).toBe('frame_000003.png');
    expect(row['state']).toHaveLength(8);
    expect(row['actions']).toHaveLength(7);
    expect(row['frame_index']).toBe(3n);
    expect(row['episode_index']).toBe(5n);
    expect(row['index']).toBe(63n);
    expect(row['timestamp']).toBeCloseTo(0.3, 6);
    // HF datasets' feature metadata, so that LeRobot's load_dataset("parquet") restores Image features
    const file = await readFile(join(root, 'data/chunk-001/episode_000005.parquet'));
    const md = parquetMetadata(file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength));
    const hf = JSON.parse(md.key_value_metadata!.find((kv) => kv.key === 'huggingface')!.value!) as {
      info: { features: Record<string, unknown> };
    };
    expect(hf.info.features['image']).toEqual({ _type: 'Image' });
    expect(hf.info.features['state']).toEqual({
      feature: { dtype: 'float32', _type: 'Value' },
      length: 8,
      _type: 'Sequence',
    });
    expect(hf.info.features['frame_index']).toEqual({ dtype: 'int64', _type: 'Value' });
    const stats = JSON.parse(await readFile(join(root, 'meta/stats.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.keys(stats['state']!).sort()).toEqual(['count', 'max', 'mean', 'min', 'std']);
    expect(stats['image']!['mean']).toHaveLength(3);
  });

  it('is deterministic for a seed, different across seeds, and held-out episodes do not move with the train count', async () => {
    const a = await generateLiberoDataset(join(tmp.dir, 's1'), {
      episodes: 3,
      heldOut: 2,
      steps: 8,
      imageSize: 16,
      seed: 11,
    });
    const b = await generateLiberoDataset(join(tmp.dir, 's2'), {
      episodes: 3,
      heldOut: 2,
      steps: 8,
      imageSize: 16,
      seed: 11,
    });
    const c = await generateLiberoDataset(join(tmp.dir, 's3'), {
      episodes: 3,
      heldOut: 2,
      steps: 8,
      imageSize: 16,
      seed: 12,
    });
    const ha = await treeHash(a.root);
    expect(await treeHash(b.root)).toEqual(ha);
    const hc = await treeHash(c.root);
    expect(hc.get('data/chunk-000/episode_000000.parquet')).not.toBe(ha.get('data/chunk-000/episode_000000.parquet'));
    // 5 train episodes instead of 3: the first held-out episode has the same content (state/actions)
    const d = await generateLiberoDataset(join(tmp.dir, 's4'), {
      episodes: 5,
      heldOut: 2,
      steps: 8,
      imageSize: 16,
      seed: 11,
    });
    const held3 = await LeRobotDataset.open(a.root, { episodes: 'test' });
    const held5 = await LeRobotDataset.open(d.root, { episodes: 'test' });
    const e3 = held3.episodes()[0]!;
    const e5 = held5.episodes()[0]!;
    expect(Array.from(e5.vectors.get('actions')!.data)).toEqual(Array.from(e3.vectors.get('actions')!.data));
  });

  it('stores exactly the simulated values; v2.0 writes stats.json without episodes_stats.jsonl', async () => {
    const root = join(tmp.dir, 'v20');
    await generateLiberoDataset(root, {
      episodes: 2,
      heldOut: 0,
      steps: 6,
      imageSize: 16,
      seed: 5,
      codebaseVersion: 'v2.0',
    });
    await expect(stat(join(root, 'meta/episodes_stats.jsonl'))).rejects.toThrow();
    const ds = await LeRobotDataset.open(root);
    expect(ds.meta.info.codebase_version).toBe('v2.0');
    expect(ds.meta.info.splits).toEqual({ train: '0:2' });
    const sim = simulateEpisode(new Rng(5, 1), 6, 16);
    const f = await ds.frame(6 + 4, { images: true });
    expect(f.episodeIndex).toBe(1);
    expect(f.task).toBe(SIM_TASKS[sim.scene.taskIndex]);
    expect(Array.from(f.values['state']!)).toEqual(Array.from(sim.frames[4]!.state));
    expect(Array.from(f.values['actions']!)).toEqual(Array.from(sim.frames[4]!.action));
    expect(Buffer.from(f.images['image']!.data).equals(Buffer.from(sim.frames[4]!.image.data))).toBe(true);
    expect(Buffer.from(f.images['wrist_image']!.data).equals(Buffer.from(sim.frames[4]!.wrist.data))).toBe(true);
  });

  it('refuses to overwrite an existing folder unless asked', async () => {
    const root = join(tmp.dir, 'ow');
    await generateLiberoDataset(root, { episodes: 1, heldOut: 0, steps: 4, imageSize: 8 });
    await expect(generateLiberoDataset(root, { episodes: 1, heldOut: 0, steps: 4, imageSize: 8 })).rejects.toThrow(
      /already exists/,
    );
    await generateLiberoDataset(root, { episodes: 2, heldOut: 0, steps: 4, imageSize: 8, overwrite: true });
    expect((await LeRobotDataset.open(root)).episodeIndices).toEqual([0, 1]);
    const leftovers = (await readdir(tmp.dir)).filter((n) => n.startsWith('.ow'));
    expect(leftovers).toEqual([]);
  });
});
