// Hostile pickles are named and refused: readPt throws UnsafePickleError listing each global that is not on
// the allow-list (files made by CPython's own pickle and by torch.save with __reduce__ → os.system / eval);
// `unsafeGlobals: 'list'` reads them for forensics. Nothing is ever executed.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cat, le32, zipper } from '../../../test-support/pt-bytes.js';
import { hasPython, makeHostileFiles, PYTHON } from '../../../test-support/hostile.js';
import { UnsafePickleError } from '../errors.js';
import { PickleObject } from '../pickle/values.js';
import { readPt } from '../read.js';
import { isAllowedGlobal } from './allowlist.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-unsafe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIX = fileURLToPath(new URL('../../../../../fixtures/', import.meta.url));
const zipFile = zipper(dir);

async function unsafeError(path: string): Promise<UnsafePickleError> {
  const err = await readPt(path).then(
    async (pt) => {
      await pt.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UnsafePickleError);
  return err as UnsafePickleError;
}

describe('the allow-list', () => {
  it('holds torch, DeepSpeed and numpy data globals, not code', () => {
    for (const [m, n] of [
      ['collections', 'OrderedDict'],
      ['torch._utils', '_rebuild_tensor_v2'],
      ['torch', 'BFloat16Storage'],
      ['torch.cuda', 'FloatStorage'],
      ['torch', 'bfloat16'],
      ['__builtin__', 'set'],
      ['deepspeed.runtime.zero.config', 'ZeroStageEnum'],
      ['deepspeed.runtime.fp16.loss_scaler', 'LossScaler'],
      ['numpy.core.multiarray', '_reconstruct'],
    ] as const)
      expect(isAllowedGlobal(m, n), `${m}.${n}`).toBe(true);
    for (const [m, n] of [
      ['posix', 'system'],
      ['os', 'system'],
      ['builtins', 'eval'],
      ['__builtin__', 'exec'],
      ['builtins', 'getattr'],
      ['subprocess', 'Popen'],
      ['torch', 'load'],
      ['__main__', 'MyConfig'],
    ] as const)
      expect(isAllowedGlobal(m, n), `${m}.${n}`).toBe(false);
    expect(isAllowedGlobal('__main__', 'MyConfig', new Set(['__main__.MyConfig']))).toBe(true);
  });

  it('every torch, DeepSpeed and PEFT fixture reads with all its globals allowed', async () => {
    const files: string[] = [];
    const walk = (d: string): void => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(d, e.name));
        else if (/\.(pt|bin)$/.test(e.name)) files.push(join(d, e.name));
      }
    };
    walk(FIX);
    expect(files.length).toBeGreaterThanOrEqual(22);
    for (const f of files) {
      const pt = await readPt(f);
      expect(pt.globals.length, f).toBeGreaterThan(0);
      expect(pt.unsafeGlobals, f).toEqual([]);
      await pt.close();
    }
  });

  it('getattr is allowed only as a lookup of a known enum member', async () => {
    const enumByName = (cls: string, member: string): Uint8Array =>
      cat([0x80, 2], 'c__builtin__\ngetattr\n', `c${cls}\n`, [0x58], le32(member.length), member, [0x86, 0x52, 0x2e]);
    const ok = await zipFile('getattr-ok.pt', [
      ['archive/data.pkl', enumByName('deepspeed.runtime.zero.config\nZeroStageEnum', 'weights')],
    ]);
    const pt = await readPt(ok);
    expect(pt.root).toBeInstanceOf(PickleObject);
    expect(pt.root).toMatchObject({ module: 'deepspeed.runtime.zero.config', name: 'ZeroStageEnum', args: [3] });
    await pt.close();
    const osSystem = await zipFile('getattr-os.pt', [['archive/data.pkl', enumByName('posix\nsystem', 'x')]]);
    expect((await unsafeError(osSystem)).globals).toEqual(['__builtin__.getattr', 'posix.system']);
    const badMember = await zipFile('getattr-member.pt', [
      ['archive/data.pkl', enumByName('deepspeed.runtime.zero.config\nZeroStageEnum', '__init__')],
    ]);
    expect((await unsafeError(badMember)).globals).toEqual(['__builtin__.getattr']);
    // getattr named but never called (it would be handed to the program as a function).
    const bare = await zipFile('getattr-bare.pt', [['archive/data.pkl', cat([0x80, 2], 'cbuiltins\ngetattr\n.')]]);
    expect((await unsafeError(bare)).globals).toEqual(['builtins.getattr']);
  });
});

const python = hasPython();
describe.skipIf(!python)('hostile checkpoints made by CPython pickle / torch.save (needs /usr/bin/python3)', () => {
  const h = python ? makeHostileFiles(dir) : undefined;
  const cases: Array<[string, string[]]> = [
    ['system-p2.pt', ['posix.system']],
    ['eval-p4.pt', ['builtins.eval']],
    ['torch-zip.pt', ['posix.system', '__builtin__.eval']],
    ['torch-legacy.pt', ['posix.system', '__builtin__.eval']],
  ];

  it.each(cases)('%s → UnsafePickleError naming %j; the list option reads it; nothing runs', async (name, globals) => {
    if (!h?.written.includes(name)) {
      expect(h?.hasTorch, `${name} is only written when torch imports`).toBe(false);
      return;
    }
    const path = join(dir, name);
    const err = await unsafeError(path);
    expect(err.globals).toEqual(globals);
    expect(err.message).toContain(globals.join(', '));
    expect(err.message).toMatch(/Nothing was executed\. Do NOT open this file with torch\.load/);
    const pt = await readPt(path, { unsafeGlobals: 'list' });
    expect(pt.unsafeGlobals.map((g) => `${g.module}.${g.name}`)).toEqual(globals);
    expect(pt.tensors().map(([n]) => n)).toEqual(name.startsWith('torch') ? ['weight'] : []);
    await pt.close();
    // A trusted global can be allowed by name.
    const allowed = await readPt(path, { allowGlobals: globals });
    expect(allowed.unsafeGlobals).toEqual([]);
    await allowed.close();
    expect(existsSync(h.marker)).toBe(false);
  });

  it('oracle: torch.load(weights_only=True) refuses the same files', (ctx) => {
    if (!h?.hasTorch) ctx.skip(); // visible as skipped: needs python3-torch
    const files = cases.map(([n]) => join(dir, n));
    const code = [
      'import sys, pickle, torch',
      'for f in sys.argv[1:]:',
      '    try:',
      '        torch.load(f, weights_only=True); print("loaded")',
      '    except pickle.UnpicklingError:',
      '        print("refused")',
    ].join('\n');
    const r = spawnSync(PYTHON, ['-c', code, ...files], { encoding: 'utf8' });
    expect(r.stdout.trim().split('\n')).toEqual(files.map(() => 'refused'));
    expect(existsSync(h?.marker ?? '')).toBe(false);
  });
});
