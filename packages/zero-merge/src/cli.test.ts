// The CLI as users run it: spawned through bin/zero-merge.mjs (not a TTY, so progress is JSON lines).
import { spawn } from 'node:child_process';
import { cp, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testTmpDir } from '@vla-lora/checkpoint-io/test-support';

const BIN = fileURLToPath(new URL('../bin/zero-merge.mjs', import.meta.url));
const FIX = fileURLToPath(new URL('../../../fixtures/zero/', import.meta.url));
const Z3 = join(FIX, 'zero3-w4-bf16');

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

let tmp: string;
beforeAll(async () => {
  tmp = await testTmpDir('zero-merge-cli-');
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('zero-merge CLI', () => {
  it('--help lists the commands; consolidate --help lists its options', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/extract-adapter/);
    expect(r.stdout).toMatch(/inspect/);
    const c = await run(['consolidate', '--help']);
    expect(c.code).toBe(0);
    for (const flag of ['--exclude-frozen', '--dtype', '--max-shard-size', '--include', '--tag'])
      expect(c.stdout).toContain(flag);
  });

  it('zero-merge <ckpt> <out> writes expected.safetensors byte for byte, with JSON-lines progress off a TTY', async () => {
    const out = join(tmp, 'z3.safetensors');
    const r = await run([join(Z3, 'checkpoint-5000'), out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/ZeRO-3, world size 4: wrote 54 tensors/);
    expect((await readFile(out)).equals(await readFile(join(Z3, 'expected.safetensors')))).toBe(true);
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; phase: string; tensors: number });
    expect(events.every((e) => e.event === 'progress')).toBe(true);
    expect(events.at(-1)).toMatchObject({ phase: 'done', tensors: 54 });

    const nf = await run([
      join(FIX, 'zero2-w3-fp16', 'checkpoint-5000'),
      join(tmp, 'z2nf.safetensors'),
      '--exclude-frozen',
      '-q',
    ]);
    expect(nf.code, nf.stderr).toBe(0);
    expect(nf.stderr).toBe('');
    expect(
      (await readFile(join(tmp, 'z2nf.safetensors'))).equals(
        await readFile(join(FIX, 'zero2-w3-fp16', 'expected-nofrozen.safetensors')),
      ),
    ).toBe(true);
  });

  it('extract-adapter prints the verifier counts; inspect flags the placeholder', async () => {
    const out = join(tmp, 'adapter');
    const r = await run(['extract-adapter', join(Z3, 'checkpoint-5000'), out, '-q']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verified: 28 LoRA tensors, 9,536 LoRA values/);
    expect((await stat(join(out, 'adapter_model.safetensors'))).size).toBeGreaterThan(38_000);
    const i = await run(['inspect', join(Z3, 'checkpoint-5000'), '--json']);
    expect(i.code, i.stderr).toBe(0);
    const report = JSON.parse(i.stdout) as {
      stage: number;
      adapterFile: { placeholder: boolean };
      recoverCommand: string;
    };
    expect(report.stage).toBe(3);
    expect(report.adapterFile.placeholder).toBe(true);
    expect(report.recoverCommand).toMatch(/^npx @vla-lora\/zero-merge extract-adapter /);
  });

  it('failures: one line naming the typed error, exit 1; bad options exit 2; nothing written', async () => {
    const ckpt = join(tmp, 'broken');
    await cp(join(Z3, 'checkpoint-5000'), ckpt, { recursive: true });
    await rm(join(ckpt, 'global_step5000', 'bf16_zero_pp_rank_3_mp_rank_00_optim_states.pt'));
    const out = join(tmp, 'never.safetensors');
    const r = await run([ckpt, out, '-q']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^zero-merge: WorldSizeMismatchError: .*bf16_zero_pp_rank_3_mp_rank_00_optim_states\.pt/);
    expect(r.stderr.trim().split('\n').length).toBe(1);
    expect(await stat(out).catch(() => null)).toBeNull();
    const bad = await run([join(Z3, 'checkpoint-5000'), out, '--dtype', 'int4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/ZeroMergeUsageError: unknown output dtype "int4"/);
  });
});
