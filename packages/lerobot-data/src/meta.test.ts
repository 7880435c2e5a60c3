import { describe, expect, it } from 'vitest';
import { InvalidMetaError, UnsupportedVersionError } from './errors.js';
import { parseInfo, parseSplit } from './meta.js';
import { formatTemplate } from './template.js';

const INFO = {
  codebase_version: 'v2.1',
  robot_type: 'panda',
  total_episodes: 5,
  total_frames: 50,
  total_tasks: 1,
  total_videos: 0,
  total_chunks: 1,
  chunks_size: 1000,
  fps: 10,
  splits: { train: '0:3', test: '3:5', odd: '0:1,4:5' },
  data_path: 'data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet',
  video_path: null,
  features: { state: { dtype: 'float32', shape: [8], names: ['state'] } },
};

describe('meta', () => {
  it('formats LeRobot path templates like Python str.format', () => {
    expect(formatTemplate(INFO.data_path, { episode_chunk: 2, episode_index: 2047 })).toBe(
      'data/chunk-002/episode_002047.parquet',
    );
    expect(formatTemplate('{a}-{b:4d}', { a: 'x', b: 7 })).toBe('x-   7');
    expect(() => formatTemplate('{video_key}', { episode_index: 1 })).toThrow(/video_key/);
  });
  it('reads splits as episode ranges', () => {
    const info = parseInfo('info.json', INFO);
    expect(parseSplit(info, 'train')).toEqual([0, 1, 2]);
    expect(parseSplit(info, 'test')).toEqual([3, 4]);
    expect(parseSplit(info, 'odd')).toEqual([0, 4]);
    expect(() => parseSplit(info, 'val')).toThrow(/no split "val"/);
  });
  it('rejects v3.0 and v1.6 with what to do, and bad fields with the field name', () => {
    expect(() => parseInfo('info.json', { ...INFO, codebase_version: 'v3.0' })).toThrow(UnsupportedVersionError);
    expect(() => parseInfo('info.json', { ...INFO, codebase_version: 'v1.6' })).toThrow(/convert_dataset_v1_to_v2/);
    expect(() => parseInfo('info.json', { ...INFO, fps: 0 })).toThrow(InvalidMetaError);
    expect(() => parseInfo('info.json', { ...INFO, data_path: 'data/x.parquet' })).toThrow(/data_path/);
    expect(() => parseInfo('info.json', { ...INFO, features: { state: { dtype: 'float32', shape: [0] } } })).toThrow(
      /shape/,
    );
  });
});
