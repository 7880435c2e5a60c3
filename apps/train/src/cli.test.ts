// The real bin, as a user runs it (tsx through bin/vla-train.mjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../bin/vla-train.mjs', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });

describe('vla-train bin', () => {
  it('plan --json prints the accounting of a config', () => {
    const r = run(['plan', 'pi0_libero_lora', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as { trainable: number; total: number; loraTensors: number };
    expect(j).toMatchObject({ trainable: 36_720_672, total: 3_534_844_688, loraTensors: 504 });
  }, 120_000);
  it('plan prints the family recipes too (the report itself is tested in pi0: plan/report.test.ts)', () => {
    const r = run(['plan', 'openvla_7b_lora']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('trainable params: 110,828,288 || all params: 7,652,065,472 || trainable%: 1.4483');
  }, 120_000);
  it('export-launch writes the DeepSpeed JSON, the LoRA spec and the memory bill; refuses to overwrite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vla-launch-'));
    try {
      const out = join(dir, 'l');
      const r = run([
        'export-launch',
        'qwen2_5_vl_3b_lora',
        '--engine',
        'deepspeed',
        '--zero-stage',
        '3',
        '--nproc-per-node',
        '2',
        '--out',
        out,
      ]);
      expect(r.status, r.stderr).toBe(0);
      expect(readdirSync(out).sort()).toEqual([
        'adapter_config.json',
        'ds_config.json',
        'launch.sh',
        'memory.txt',
        'trainable_parameters.tsv',
      ]);
      const ds = JSON.parse(readFileSync(join(out, 'ds_config.json'), 'utf8')) as Record<string, unknown>;
      expect(ds).toMatchObject({
        train_batch_size: 2,
        train_micro_batch_size_per_gpu: 1,
        zero_optimization: { stage: 3 },
      });
      const again = run(['export-launch', 'qwen2_5_vl_3b_lora', '--engine', 'deepspeed', '--out', out]);
      expect(again.status).toBe(2);
      expect(again.stderr).toMatch(/--overwrite/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
  it('usage errors exit 2 with a one-line reason', () => {
    const r = run(['pi0_libero_lora_tiny', '--exp-name', 'x', '--resume', '--overwrite']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/exclude each other/);
  }, 120_000);
});
