// The pickle VM on hostile and broken streams: code execution payloads stay inert records, malformed streams
// are typed errors, claimed sizes are checked before allocation, and nesting depth costs no recursion.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cat, le32, zipper } from '../../../test-support/pt-bytes.js';
import {
  PickleError,
  PickleLimitError,
  PickleTruncatedError,
  PickleUnsupportedOpcodeError,
  PtTruncatedError,
  UnsafePickleError,
} from '../errors.js';
import { flattenTensors } from '../pt-file.js';
import { readPt } from '../read.js';
import { torchCall } from '../torch/globals.js';
import { unpickle } from './unpickler.js';
import { type PickleDict, PickleObject } from './values.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const zipFile = zipper(dir);

const marker = join(dir, 'PWNED');
const SHELL = `touch ${marker}`;

describe('code execution payloads are inert records, and readPt refuses them by name', () => {
  const payloads: Array<[string, Uint8Array, string, string]> = [
    ['protocol 0: os.system via GLOBAL + REDUCE', cat(`cos\nsystem\n(S'${SHELL}'\ntR.`), 'os', 'system'],
    [
      'protocol 2: posix.system',
      cat([0x80, 2], `cposix\nsystem\n`, [0x58], le32(SHELL.length), SHELL, [0x85, 0x52, 0x2e]),
      'posix',
      'system',
    ],
    [
      'builtins.eval',
      cat(
        [0x80, 2],
        `cbuiltins\neval\n`,
        [0x58],
        le32(`__import__('os').system('${SHELL}')`.length),
        `__import__('os').system('${SHELL}')`,
        [0x85, 0x52, 0x2e],
      ),
      'builtins',
      'eval',
    ],
    ['__builtin__.exec', cat(`c__builtin__\nexec\n(V__import__('os').system('${SHELL}')\ntR.`), '__builtin__', 'exec'],
    [
      'protocol 4: STACK_GLOBAL subprocess.Popen via NEWOBJ',
      cat(
        [0x80, 4, 0x8c, 10],
        'subprocess',
        [0x8c, 5],
        'Popen',
        [0x93, 0x28, 0x8c, 5],
        'touch',
        [0x8c, marker.length],
        marker,
        [0x6c, 0x85, 0x81, 0x2e],
      ),
      'subprocess',
      'Popen',
    ],
    ['protocol 1: INST of os.system', cat(`(S'${SHELL}'\nios\nsystem\n.`), 'os', 'system'],
  ];

  it.each(payloads)('%s', async (_name, payload, module, name) => {
    const { value } = unpickle(payload, { call: torchCall('payload') });
    expect(value).toBeInstanceOf(PickleObject);
    expect(value).toMatchObject({ module, name });
    // The same payload as a .pt's data.pkl: readPt names the global and refuses; listing reads the inert record.
    const p = await zipFile(`${name}.pt`, [['archive/data.pkl', payload]]);
    const err = await readPt(p).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsafePickleError);
    expect((err as UnsafePickleError).globals).toEqual([`${module}.${name}`]);
    const pt = await readPt(p, { unsafeGlobals: 'list' });
    expect(pt.root).toMatchObject({ module, name });
    expect(pt.unsafeGlobals).toEqual([{ module, name, allowed: false }]);
    await pt.close();
    expect(existsSync(marker)).toBe(false);
  });

  const python = spawnSync('python3', ['-c', 'print(1)']).status === 0 ? 'python3' : undefined;
  it.skipIf(!python)(
    'control: Python’s own pickle.loads does run the first payload (so the test above is meaningful)',
    () => {
      const control = join(dir, 'CONTROL');
      const payload = Buffer.from(`cos\nsystem\n(S'touch ${control}'\ntR.`, 'latin1').toString('base64');
      spawnSync(python as string, ['-c', `import pickle, base64; pickle.loads(base64.b64decode('${payload}'))`]);
      expect(existsSync(control)).toBe(true);
    },
  );

  it('DeepSpeed-style objects keep args, state and items for inspection', () => {
    // NEWOBJ + BUILD + SETITEMS/APPENDS on an unknown class.
    const p = cat(
      [0x80, 2],
      'cpkg.mod\nThing\n',
      [0x29, 0x81, 0x7d, 0x28, 0x58],
      le32(1),
      'a',
      [0x4b, 1, 0x75, 0x62, 0x28, 0x4b, 9, 0x65, 0x2e],
    );
    const { value } = unpickle(p, { call: torchCall('x') });
    const o = value as PickleObject;
    expect(o.qualifiedName).toBe('pkg.mod.Thing');
    expect(o.via).toBe('newobj');
    expect(o.attr('a')).toBe(1);
    expect(o.listItems).toEqual([9]);
  });
});

describe('malformed pickles', () => {
  it.each([
    ['0xff', [0x80, 2, 0xff]],
    ['0x00', [0x00]],
    ['0xb0 after a value', [0x80, 2, 0x4e, 0xb0]],
  ])('unknown opcode %s → PickleUnsupportedOpcodeError', (_n, bytes) => {
    expect(() => unpickle(Uint8Array.from(bytes))).toThrow(PickleUnsupportedOpcodeError);
  });

  it('refuses out-of-band buffers and the extension registry', () => {
    expect(() => unpickle(Uint8Array.of(0x80, 5, 0x97, 0x2e))).toThrow(PickleUnsupportedOpcodeError);
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0x82, 1, 0x2e))).toThrow(PickleUnsupportedOpcodeError);
    expect(() => unpickle(Uint8Array.of(0x80, 6, 0x2e))).toThrow(PickleError);
  });

  it('an unknown opcode inside a .pt is a typed error from readPt', async () => {
    const p = await zipFile('opcode.pt', [['archive/data.pkl', Uint8Array.of(0x80, 2, 0x7d, 0xfe, 0x2e)]]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PickleUnsupportedOpcodeError);
  });

  it('stack underflow, missing MARK, memo miss, odd SETITEMS, no STOP', () => {
    expect(() => unpickle(Uint8Array.of(0x2e))).toThrow(PickleError);
    expect(() => unpickle(Uint8Array.of(0x4e, 0x74, 0x2e))).toThrow(/MARK/);
    expect(() => unpickle(Uint8Array.of(0x68, 7, 0x2e))).toThrow(/memo/);
    expect(() => unpickle(Uint8Array.of(0x7d, 0x28, 0x4e, 0x75, 0x2e))).toThrow(/odd/);
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0x4e))).toThrow(PickleTruncatedError);
    expect(() => unpickle(Uint8Array.of(0x4e, 0x4e, 0x61, 0x2e))).toThrow(/not a list/);
    expect(() => unpickle(Uint8Array.of(0x4e, 0x29, 0x52, 0x2e))).toThrow(/not a global/);
  });

  it('huge claimed lengths fail fast without allocating them', () => {
    const before = process.memoryUsage().arrayBuffers;
    const t0 = Date.now();
    const cases: number[][] = [
      [0x80, 2, 0x58, 0xff, 0xff, 0xff, 0xff, 0x61], // BINUNICODE 4 GiB
      [0x80, 4, 0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // BINUNICODE8 2^64-1
      [0x80, 4, 0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40], // BINBYTES8 2^62
      [0x80, 5, 0x96, 0, 0, 0, 0, 0, 0, 0, 0x40], // BYTEARRAY8 2^62
      [0x80, 4, 0x95, 0, 0, 0, 0, 0, 0, 0, 0x10, 0x4e, 0x2e], // FRAME 2^60
      [0x80, 2, 0x42, 0xff, 0xff, 0xff, 0x7f], // BINBYTES 2 GiB
      [0x80, 2, 0x54, 0xff, 0xff, 0xff, 0x7f], // BINSTRING 2 GiB
    ];
    for (const c of cases) expect(() => unpickle(Uint8Array.from(c))).toThrow(PtTruncatedError);
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0x8b, 0xff, 0xff, 0xff, 0x7f, 0x2e))).toThrow(PickleLimitError); // LONG4 2 GiB
    expect(() => unpickle(Uint8Array.of(0x80, 2, 0x54, 0xff, 0xff, 0xff, 0xff))).toThrow(PickleError); // negative BINSTRING
    // A memo index of 2^32-1 is a map key, not an array size.
    expect(
      unpickle(Uint8Array.of(0x4e, 0x72, 0xff, 0xff, 0xff, 0xff, 0x6a, 0xff, 0xff, 0xff, 0xff, 0x86, 0x2e)).value,
    ).toBeTruthy();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 << 20);
  });

  it('memo and stack limits are enforced', () => {
    const many = Uint8Array.from([...Array.from({ length: 100 }, () => 0x4e), 0x2e]);
    expect(() => unpickle(many, {}, { maxStack: 50 })).toThrow(PickleLimitError);
    const memo = Uint8Array.from([0x4e, ...Array.from({ length: 100 }, (_, i) => [0x71, i]).flat(), 0x2e]);
    expect(() => unpickle(memo, {}, { maxMemo: 50 })).toThrow(PickleLimitError);
  });

  it('deeply nested structures (200k levels) parse iteratively and walk without recursion', () => {
    const n = 200_000;
    const bytes = new Uint8Array(2 + n + (n - 1) + 1);
    bytes.set([0x80, 2]);
    bytes.fill(0x5d, 2, 2 + n); // EMPTY_LIST × n
    bytes.fill(0x61, 2 + n, 2 + n + n - 1); // APPEND × (n-1)
    bytes[bytes.length - 1] = 0x2e;
    const { value } = unpickle(bytes);
    let depth = 0;
    for (let v = value as unknown[]; Array.isArray(v) && v.length > 0; v = v[0] as unknown[]) depth++;
    expect(depth).toBe(n - 1);
    expect(flattenTensors(value)).toEqual([]);
    // 1M open MARKs: bounded work, typed error at STOP.
    const marks = new Uint8Array(1_000_001).fill(0x28);
    marks[marks.length - 1] = 0x2e;
    expect(() => unpickle(marks)).toThrow(PickleError);
  });

  it('a dict key that is a 10k-deep tuple hashes without recursion trouble', () => {
    const n = 10_000;
    const b = [0x7d, 0x4e, ...Array.from({ length: n }, () => 0x85), 0x4b, 1, 0x73, 0x2e];
    const { value } = unpickle(Uint8Array.from(b));
    expect((value as PickleDict).size).toBe(1);
  });
});
