// The real bin, as a user runs it (tsx through bin/vla-train.mjs).
import { spawnSync } from 'node:child_process';
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
  it('usage errors exit 2 with a one-line reason', () => {
    const r = run(['pi0_libero_lora_tiny', '--exp-name', 'x', '--resume', '--overwrite']);
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/exclude each other/);
  }, 120_000);
});
