// vla-ckpt on hostile checkpoints (made by CPython's pickle / torch.save with __reduce__ → os.system / eval):
// inspect, verify, convert and diff refuse with UnsafePickleError and exit 3 (EXIT_CODES.unsafePickle);
// `inspect --list-globals` lists the globals and exits 0. Before this, inspect printed "total: 0 tensors", exit 0.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { hasPython, makeHostileFiles } from '../../test-support/hostile.js';
import { EXIT_CODES, main } from './main.js';

const dir = mkdtempSync(join(tmpdir(), 'ckpt-unsafe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const BIN = fileURLToPath(new URL('../../bin/vla-ckpt.mjs', import.meta.url));
const fixture = (p: string): string => fileURLToPath(new URL(`../../../../fixtures/${p}`, import.meta.url));

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, { out: (t) => (stdout += t), err: (t) => (stderr += t) });
  return { code, stdout, stderr };
}

const python = hasPython();
describe.skipIf(!python)('vla-ckpt on hostile pickles (needs /usr/bin/python3)', () => {
  const h = python ? makeHostileFiles(dir) : undefined;
  const f = (name: string): string => join(dir, name);

  it('inspect refuses with one line naming each global, exit 3; the real bin exits 3 too', async () => {
    expect(EXIT_CODES.unsafePickle).toBe(3);
    const r = await run('inspect', f('system-p2.pt'));
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^vla-ckpt: UnsafePickleError: .*system-p2\.pt: .*: posix\.system\. Nothing was executed/);
    expect(lines[0]).toContain('Do NOT open this file with torch.load');
    const code = await new Promise<number>((resolve) =>
      execFile(process.execPath, [BIN, 'inspect', f('eval-p4.pt')], (err) =>
        resolve(err ? (typeof err.code === 'number' ? err.code : -1) : 0),
      ),
    );
    expect(code).toBe(3);
  });

  it('inspect --list-globals lists them (allowed or not) and exits 0; --json carries them', async () => {
    const r = await run('inspect', '--list-globals', f('eval-p4.pt'));
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pickle globals: 1 (1 not on the allow-list)');
    expect(r.stdout).toMatch(/NOT ALLOWED {2}builtins\.eval/);
    expect(r.stdout).toContain('do not open this file with torch.load');
    const j = await run('inspect', '--list-globals', '--json', f('system-p2.pt'));
    expect(j.code).toBe(0);
    expect((JSON.parse(j.stdout) as { globals: unknown }).globals).toEqual([
      { module: 'posix', name: 'system', allowed: false },
    ]);
    // A clean file lists its (allowed) globals.
    const clean = await run('inspect', '--list-globals', fixture('torch-pt/torch-2.11/views.pt'));
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/\(0 not on the allow-list\)/);
    expect(clean.stdout).toMatch(/allowed {6}torch\._utils\._rebuild_tensor_v2/);
  });

  it('convert and diff refuse with exit 3 and write nothing', async () => {
    const out = f('out.safetensors');
    const c = await run('convert', f('system-p2.pt'), out);
    expect(c.code).toBe(3);
    expect(existsSync(out)).toBe(false);
    const d = await run('diff', fixture('torch-pt/torch-2.11/views.pt'), f('eval-p4.pt'));
    expect(d.code).toBe(3);
    expect(d.stderr).toMatch(/UnsafePickleError: .*builtins\.eval/);
  });

  it('torch.save files (zip and legacy) and a PEFT adapter_model.bin are refused; nothing ran', async (ctx) => {
    if (!h?.hasTorch) ctx.skip(); // visible as skipped: torch.save needs python3-torch
    for (const name of ['torch-zip.pt', 'torch-legacy.pt']) {
      const r = await run('inspect', f(name));
      expect(r.code, name).toBe(3);
      expect(r.stderr).toContain('posix.system, __builtin__.eval');
    }
    const v = await run('verify', f('adapter'));
    expect(v.code).toBe(3);
    expect(v.stderr).toMatch(/UnsafePickleError: .*adapter_model\.bin.*posix\.system/);
    expect(existsSync(h?.marker ?? '')).toBe(false);
  });
});
