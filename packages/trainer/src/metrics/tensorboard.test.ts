// Our TensorBoard event files, read back by a reader that is not ours: TensorBoard's event.proto /
// summary.proto compiled by Debian's protoc, parsed by python3-protobuf, framing and masked CRC-32C
// checked by an independent Python CRC-32C (test-data/tensorboard-proto/).
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MetricRecord } from '@vla-lora/checkpoint-io';
import { describe, expect, it } from 'vitest';
import { haveTensorBoardReader, readEventFile as readBack } from '../../test-support/tensorboard-reader.js';
import { crc32c, maskedCrc32c, TensorBoardWriter } from './tensorboard.js';

if (!haveTensorBoardReader)
  console.warn(
    'SKIPPED tensorboard reader tests: need Debian protobuf-compiler and python3-protobuf (.ci/run installs them)',
  );

const f32 = (x: number) => Math.fround(x);

describe('CRC-32C', () => {
  it('matches the RFC 3720 check value and the TFRecord mask', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    const c = 0xe3069283;
    expect(maskedCrc32c(new TextEncoder().encode('123456789'))).toBe((((c >>> 15) | (c << 17)) + 0xa282ead8) >>> 0);
  });
});

describe.skipIf(!haveTensorBoardReader)('TensorBoard event files', () => {
  it('are read by TensorBoard’s protos + python3-protobuf: file_version first, then the scalars', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tb-'));
    let t = 1_700_000_000.25;
    const tb = new TensorBoardWriter(dir, () => t++);
    const history: MetricRecord[] = [
      { step: 1, loss: 2.5, lr: 1e-4, grad_norm: 3.25, samples_per_s: 12.5, epoch: 0.1 },
      { step: 2, loss: 2.0, lr: 2e-4, grad_norm: 1.5, samples_per_s: 13 },
    ];
    await tb.reset(history);
    await tb.append({ step: 3, loss: 1.75, lr: 3e-4, grad_norm: 0.5, samples_per_s: 14.25, step_time_s: 0.5 });
    await tb.append({ step: 3_000_000_000, loss: 0.1 }); // a step beyond int32
    await tb.appendEval(3, { mse_base: 0.5, mse_fine_tuned: 0.125 });
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^events\.out\.tfevents\.1700000000\.\S+$/);
    const back = await readBack(join(dir, files[0]!));
    expect(back.records).toBe(6);
    expect(back.events[0]).toEqual({
      wall_time: 1_700_000_000.25,
      step: 0,
      what: 'file_version',
      file_version: 'brain.Event:2',
    });
    const scalars = back.events.slice(1).map((e) => [e.step, e.what, e.values]);
    expect(scalars).toEqual([
      [
        1,
        'summary',
        [
          ['train/loss', 2.5, 'simple_value'],
          ['train/lr', f32(1e-4), 'simple_value'],
          ['train/grad_norm', 3.25, 'simple_value'],
          ['train/samples_per_s', 12.5, 'simple_value'],
        ],
      ],
      [
        2,
        'summary',
        [
          ['train/loss', 2, 'simple_value'],
          ['train/lr', f32(2e-4), 'simple_value'],
          ['train/grad_norm', 1.5, 'simple_value'],
          ['train/samples_per_s', 13, 'simple_value'],
        ],
      ],
      [
        3,
        'summary',
        [
          ['train/loss', 1.75, 'simple_value'],
          ['train/lr', f32(3e-4), 'simple_value'],
          ['train/grad_norm', 0.5, 'simple_value'],
          ['train/samples_per_s', 14.25, 'simple_value'],
        ],
      ],
      [3_000_000_000, 'summary', [['train/loss', f32(0.1), 'simple_value']]],
      [
        3,
        'summary',
        [
          ['eval/mse_base', 0.5, 'simple_value'],
          ['eval/mse_fine_tuned', 0.125, 'simple_value'],
        ],
      ],
    ]);
    expect(back.events.map((e) => e.wall_time).slice(1)).toEqual([
      1_700_000_000.25, 1_700_000_000.25, 1_700_000_001.25, 1_700_000_002.25, 1_700_000_003.25,
    ]);
  });

  it('a corrupted byte is caught by the reader’s CRC check; reset after resume leaves one file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tb-'));
    let t = 1_700_000_000;
    const tb = new TensorBoardWriter(dir, () => (t += 10));
    await tb.reset([{ step: 1, loss: 1 }]);
    await tb.append({ step: 2, loss: 0.5 });
    const tb2 = new TensorBoardWriter(dir, () => (t += 10));
    await tb2.reset([{ step: 1, loss: 1 }]); // resumed at step 1: step 2 logged after the checkpoint is gone
    const files = await readdir(dir);
    expect(files).toHaveLength(1);
    const back = await readBack(join(dir, files[0]!));
    expect(back.events.map((e) => e.step)).toEqual([0, 1]);
    const bytes = await readFile(join(dir, files[0]!));
    bytes[bytes.length - 6]! ^= 0x40;
    const bad = join(dir, 'corrupt.tfevents');
    await writeFile(bad, bytes);
    await expect(readBack(bad)).rejects.toThrow(/bad data CRC/);
  });
});
