// The final export: <run>/adapter must appear complete or not at all (a kill or an I/O error in the
// middle of the export used to leave <run>/adapter existing but empty or half-written).
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { PeftAdapter } from '@vla-lora/checkpoint-io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpuTempDir, type TempDir } from '../test-support/index.js';
import { exportTrainedWeights } from './export.js';

let tmp: TempDir;
beforeAll(async () => {
  tmp = await cpuTempDir('pi0-export-');
});
afterAll(() => tmp?.remove());

const config = (): PeftAdapter['config'] =>
  ({
    peft_type: 'LORA',
    r: 2,
    lora_alpha: 4,
    target_modules: ['q_proj'],
    base_model_name_or_path: 'tiny',
    task_type: null,
  }) as unknown as PeftAdapter['config'];
const params = () =>
  new Map<string, tf.Variable>([
    ['layers.0.q_proj.lora_A.default.weight', tf.variable(tf.ones([2, 4]))],
    ['layers.0.q_proj.lora_B.default.weight', tf.variable(tf.ones([4, 2]))],
    ['action_out_proj.weight', tf.variable(tf.ones([3, 4]))],
  ]);

describe('exportTrainedWeights', () => {
  it('a failure after the weights were written leaves no <run>/adapter at all', async () => {
    const run = join(tmp.path, 'fails');
    await mkdir(run);
    const broken = config();
    // Stands in for a kill / ENOSPC between adapter_model.safetensors and adapter_config.json.
    Object.defineProperty(broken, 'zz_dies_here', {
      enumerable: true,
      get() {
        throw new Error('simulated failure while writing adapter_config.json');
      },
    });
    await expect(exportTrainedWeights(run, params(), broken)).rejects.toThrow(/simulated failure/);
    expect(await readdir(run)).not.toContain('adapter');
    expect((await readdir(run)).filter((e) => e.includes('adapter'))).toEqual([]);
  });

  it('replaces the empty adapter/ an interrupted export left, with a complete verified one', async () => {
    const run = join(tmp.path, 'retry');
    await mkdir(join(run, 'adapter'), { recursive: true });
    const out = await exportTrainedWeights(run, params(), config());
    expect((await readdir(join(run, 'adapter'))).sort()).toEqual(['adapter_config.json', 'adapter_model.safetensors']);
    expect(out.report.loraTensors).toBe(2);
    expect(await readdir(run)).toContain('trainable.safetensors');
  });
});
