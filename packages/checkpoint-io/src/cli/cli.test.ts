import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { openSafetensors } from '../safetensors/open.js';
import { main } from './main.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/vla-ckpt.mjs', import.meta.url));
const fixture = (p: string): string => fileURLToPath(new URL(`../../../../fixtures/${p}`, import.meta.url));

/** Runs the real bin in a child process (used where the process boundary matters). */
function spawnBin(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, FORCE_COLOR: '0' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the same commands in-process (fast). */
async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

describe('vla-ckpt CLI', () => {
  it('inspect --json lists an adapter directory with totals and metadata', async () => {
    const r = await run('inspect', fixture('peft-tiny-gemma/adapter'), '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as {
      kind: string;
      metadata: unknown;
      totals: { tensors: number; values: number; bytes: number };
    };
    expect(j.kind).toBe('safetensors');
    expect(j.metadata).toEqual({ format: 'pt' });
    expect(j.totals).toMatchObject({ tensors: 28, values: 15872, bytes: 15872 * 4 });
  });

  it('verify prints the counts for a good adapter and fails in one line with the ZeRO hint for the placeholder', async () => {
    const ok = await run('verify', fixture('peft-tiny-gemma/adapter'));
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('verified: 28 LoRA tensors, 15,872 values');
    const bad = await spawnBin('verify', fixture('zero/zero3-w4-bf16/checkpoint-5000')); // the real bin: exit code and stderr
    expect(bad.code).toBe(1);
    expect(bad.stdout).toBe('');
    const lines = bad.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^vla-ckpt: AdapterPlaceholderError: .*global_step5000.*npx @vla-lora\/zero-merge extract-adapter /,
    );
  });

  it('convert --dtype bf16 then diff: bf16 rounding only; --atol 0 fails; identical files differ by 0', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-cli-'));
    const out = join(dir, 'bf16.safetensors');
    const src = fixture('peft-tiny-gemma/base/model.safetensors');
    const c = await spawnBin('convert', src, out, '--dtype', 'bf16'); // the real bin: progress as JSON lines on a pipe
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^wrote .*bf16\.safetensors: \d+ tensors/);
    expect(c.stderr).toContain('"task":"convert"'); // JSON-lines progress when not a TTY
    const ins = JSON.parse((await run('inspect', out, '--json')).stdout) as {
      totals: { byDtype: Record<string, unknown> };
    };
    expect(Object.keys(ins.totals.byDtype)).toEqual(['BF16']);
    const d = await run('diff', src, out, '--json');
    expect(d.code).toBe(0);
    const dj = JSON.parse(d.stdout) as {
      maxAbsDiff: number;
      structureDiffers: boolean;
      tensors: Array<{ maxAbsDiff: number }>;
    };
    expect(dj.structureDiffers).toBe(false);
    expect(dj.maxAbsDiff).toBeGreaterThan(0);
    expect(dj.maxAbsDiff).toBeLessThan(0.05);
    const strict = await run('diff', src, out, '--atol', '0');
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/^vla-ckpt: TensorsDifferError: max \|a-b\| = .* exceeds --atol 0\n$/);
    const same = await run('diff', src, src);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('max |a-b| = 0');
  });

  it('convert a torch .pt (zip and legacy) to safetensors with the values torch saved', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-cli-'));
    for (const name of ['state_dict_f32', 'state_dict_f32_legacy']) {
      const out = join(dir, `${name}.safetensors`);
      const c = await run('convert', fixture(`torch-pt/torch-1.13/${name}.pt`), out);
      expect(c.code).toBe(0);
      const expected = JSON.parse(await readFile(fixture(`torch-pt/torch-1.13/${name}.json`), 'utf8')) as {
        value: { __dict__: Array<[string, { dtype: string; shape: number[]; values: number[] }]> };
      };
      const r = await openSafetensors(out);
      expect(r.list().map((t) => t.name)).toEqual(expected.value.__dict__.map(([k]) => k).sort());
      for (const [k, t] of expected.value.__dict__) {
        expect(r.info(k).shape).toEqual(t.shape);
        expect([...(await r.readFloat32(k))]).toEqual(t.values.map(Math.fround));
      }
      await r.close();
    }
    const bf = join(dir, 'dtypes-f16.safetensors');
    expect((await run('convert', fixture('torch-pt/torch-2.11/dtypes.pt'), bf, '--dtype', 'f16')).code).toBe(0);
    const r = await openSafetensors(bf);
    expect(r.info('bfloat16').dtype).toBe('F16');
    expect(r.info('int64').dtype).toBe('I64'); // integers are never cast
    await r.close();
  });

  it('verify --base checks the fit against the base from headers (text and --json)', async () => {
    const r = await run('verify', fixture('peft-tiny-gemma/adapter'), '--base', fixture('peft-tiny-gemma/base'));
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/base: .*model\.safetensors \(one file, 20 tensors; headers only\)/);
    expect(r.stdout).toMatch(/fits: 14 base weights/);
    const j = await run(
      'verify',
      fixture('peft-tiny-gemma/rslora'),
      '--base',
      fixture('peft-tiny-gemma/base'),
      '--json',
    );
    expect(JSON.parse(j.stdout).base).toMatchObject({ kind: 'file', shards: 1, fit: { missing: [], extra: [] } });
    // a "base" that holds none of the adapter's modules (the ZeRO-3 placeholder file: no tensors)
    const bad = await run(
      'verify',
      fixture('peft-tiny-gemma/adapter'),
      '--base',
      fixture('zero/zero3-w4-bf16/checkpoint-5000'),
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /AdapterBaseMismatchError: .*14 adapter module\(s\)\/tensor\(s\) have no tensor in the base/,
    );
  });

  it('verify --json gives the report fields', async () => {
    const r = await run('verify', fixture('peft-tiny-gemma/rslora'), '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      format: 'safetensors',
      loraTensors: 8,
      loraValues: 1664,
      modules: 4,
      ranks: { 4: 4 },
      warnings: [],
    });
  });

  it('diff reports tensors only in one file and exits 1', async () => {
    const r = await run('diff', fixture('peft-tiny-gemma/adapter'), fixture('peft-tiny-gemma/rslora'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('only in a');
    expect(r.stderr).toContain('different tensor names or shapes');
  });

  it('bad input exits non-zero with one typed line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-cli-'));
    const p = join(dir, 'broken.safetensors');
    await writeFile(p, Buffer.from([0xff, 0xff, 0, 0, 0, 0, 0, 0, 1, 2]));
    const r = await run('inspect', p);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^vla-ckpt: SafetensorsTruncatedError: .*broken\.safetensors: header length 65535 runs past the end/,
    );
    const u = await run('convert', p, join(dir, 'o.safetensors'), '--dtype', 'f8');
    expect(u.code).not.toBe(0);
    expect(u.stderr).toContain('--dtype');
  });
});
