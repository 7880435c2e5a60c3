// Hostile and broken inputs: every failure is a typed PtError, nothing executes, nothing hangs, and no
// allocation follows a claimed (unverified) size.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  PickleError,
  PickleLimitError,
  PickleUnsupportedOpcodeError,
  PtError,
  PtFormatError,
  PtTorchObjectError,
  PtTruncatedError,
  PtZipError,
} from './errors.js';
import { flattenTensors } from './pt-file.js';
import { readPt } from './read.js';
import { torchCall } from './torch-globals.js';
import { PickleTruncatedError, unpickle } from './unpickler.js';
import { type PickleDict, PickleObject } from './values.js';
import { ZipStreamWriter } from './zip-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-bad-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIX = fileURLToPath(new URL('../../../../fixtures/', import.meta.url));
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const cat = (...parts: Array<Uint8Array | number[] | string>): Uint8Array =>
  Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...enc(p)] : [...p])));

/** Zips `entries` (name → bytes) with our torch-style writer, without any name checks. */
async function zipFile(name: string, entries: Array<[string, Uint8Array]>): Promise<string> {
  const p = join(dir, name);
  const chunks: Uint8Array[] = [];
  const zip = new ZipStreamWriter({ write: async (b) => void chunks.push(b.slice()) });
  for (const [n, b] of entries) await zip.addEntry(n, b.byteLength, [b]);
  await zip.finish();
  writeFileSync(p, Buffer.concat(chunks));
  return p;
}

/** Reads the file and every tensor in it. */
async function readAll(path: string): Promise<void> {
  const pt = await readPt(path);
  try {
    for (const [, t] of pt.tensors()) await t.readBytes();
  } finally {
    await pt.close();
  }
}

const marker = join(dir, 'PWNED');
const SHELL = `touch ${marker}`;

describe('code execution payloads are inert records', () => {
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
    // The same payload as a .pt's data.pkl.
    const p = await zipFile(`${name}.pt`, [['archive/data.pkl', payload]]);
    const pt = await readPt(p);
    expect(pt.root).toMatchObject({ module, name });
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

function le32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

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

describe('malformed torch objects', () => {
  const pid = (numel: number): number[] => [
    0x28,
    0x58,
    ...le32(7),
    ...enc('storage'),
    ...enc('ctorch\nFloatStorage\n'),
    0x58,
    ...le32(1),
    ...enc('0'),
    0x58,
    ...le32(3),
    ...enc('cpu'),
    0x8a,
    8,
    ...new Uint8Array(new BigInt64Array([BigInt(numel)]).buffer),
    0x74,
    0x51,
  ];
  const rebuild = (numel: number, shape: number[]): Uint8Array =>
    cat(
      [0x80, 2],
      'ctorch._utils\n_rebuild_tensor_v2\n',
      [0x28],
      pid(numel),
      [0x4b, 0],
      [0x28, ...shape.flatMap((d) => [0x8a, 8, ...new Uint8Array(new BigInt64Array([BigInt(d)]).buffer)]), 0x74],
      [0x28, ...shape.flatMap(() => [0x4b, 1]), 0x74],
      [0x89, 0x7d, 0x74, 0x52, 0x2e],
    );

  it('a storage claiming 2^50 elements over a 16-byte record → PtTruncatedError, nothing allocated', async () => {
    const p = await zipFile('bignumel.pt', [
      ['archive/data.pkl', rebuild(2 ** 50, [4])],
      ['archive/data/0', new Uint8Array(16)],
    ]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTruncatedError);
  });

  it('a tensor whose size/stride reach past its storage → PtTorchObjectError', async () => {
    const p = await zipFile('oob.pt', [
      ['archive/data.pkl', rebuild(4, [2 ** 40, 2 ** 40])],
      ['archive/data/0', new Uint8Array(16)],
    ]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTorchObjectError);
  });

  it('a missing data/<key> record → PtFormatError', async () => {
    const p = await zipFile('missing.pt', [['archive/data.pkl', rebuild(4, [4])]]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtFormatError);
  });

  it('_rebuild_tensor_v2 without a storage → PtTorchObjectError', () => {
    const p = cat(
      [0x80, 2],
      'ctorch._utils\n_rebuild_tensor_v2\n',
      [0x28, 0x4e, 0x4b, 0, 0x29, 0x29, 0x89, 0x4e, 0x74, 0x52, 0x2e],
    );
    expect(() => unpickle(p, { call: torchCall('x') })).toThrow(PtTorchObjectError);
  });

  it('persistent ids other than storages are refused', async () => {
    const p = await zipFile('persid.pt', [
      ['archive/data.pkl', cat([0x80, 2, 0x28], 'X', le32(6), 'module', [0x74, 0x51, 0x2e])],
    ]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTorchObjectError);
  });
});

describe('unsafe or broken zip containers', () => {
  it.each(['../evil', 'archive/../../evil', '/etc/evil', 'C:/evil', 'archive\\..\\evil'])(
    'entry %s → PtZipError',
    async (name) => {
      const p = await zipFile(`unsafe-${name.replace(/[^a-z]/gi, '_')}.pt`, [
        ['archive/data.pkl', Uint8Array.of(0x80, 2, 0x4e, 0x2e)],
        [name, enc('x')],
      ]);
      await expect(readPt(p)).rejects.toBeInstanceOf(PtZipError);
    },
  );

  it('a zip without data.pkl → PtFormatError', async () => {
    const p = await zipFile('nodata.pt', [['archive/other', enc('x')]]);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtFormatError);
  });

  it('a central directory entry claiming more bytes than the file has → PtTruncatedError', async () => {
    const buf = Buffer.from(readFileSync(join(FIX, 'torch-pt/torch-2.11/views.pt')));
    const cd = buf.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
    buf.writeUInt32LE(0x7fffffff, cd + 20);
    buf.writeUInt32LE(0x7fffffff, cd + 24);
    const p = join(dir, 'bigentry.pt');
    writeFileSync(p, buf);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTruncatedError);
  });

  it('an end record claiming 60000 entries → typed error', async () => {
    const buf = Buffer.from(readFileSync(join(FIX, 'torch-pt/torch-2.11/views.pt')));
    const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    buf.writeUInt16LE(60000, eocd + 8);
    buf.writeUInt16LE(60000, eocd + 10);
    // torch (miniz) also writes a zip64 end record, whose counts win.
    const eocd64 = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x06, 0x06]));
    if (eocd64 >= 0) {
      buf.writeBigUInt64LE(60000n, eocd64 + 24);
      buf.writeBigUInt64LE(60000n, eocd64 + 32);
    }
    const p = join(dir, 'manyentries.pt');
    writeFileSync(p, buf);
    await expect(readPt(p)).rejects.toBeInstanceOf(PtError);
  });

  it('not a checkpoint at all → PtFormatError; tiny → PtTruncatedError', async () => {
    const json = join(dir, 'x.json');
    writeFileSync(json, '{"a": 1}');
    await expect(readPt(json)).rejects.toThrow(/JSON/);
    const tiny = join(dir, 'tiny.pt');
    writeFileSync(tiny, 'PK');
    await expect(readPt(tiny)).rejects.toBeInstanceOf(PtTruncatedError);
    const plain = join(dir, 'plain.pkl');
    writeFileSync(plain, Uint8Array.of(0x80, 2, 0x4b, 1, 0x2e));
    await expect(readPt(plain)).rejects.toBeInstanceOf(PtFormatError);
  });
});

describe('truncated files', () => {
  const files = [
    'torch-pt/torch-2.11/views.pt',
    'torch-pt/torch-1.13/state_dict_f32_legacy.pt',
    'torch-pt/torch-2.11/trainer_state.pt',
    'zero/zero2-w3-fp16/checkpoint-5000/global_step5000/zero_pp_rank_0_mp_rank_00_optim_states.pt',
  ];
  it.each(files)('%s cut anywhere → a typed error', async (rel) => {
    const full = readFileSync(join(FIX, rel));
    const cuts = new Set<number>();
    for (let i = 0; i < 24; i++) cuts.add(Math.floor((full.length * i) / 24));
    for (let i = 1; i <= 12; i++) cuts.add(full.length - i);
    for (let i = 0; i < 8; i++) cuts.add(i);
    const p = join(dir, `cut-${rel.replace(/\W/g, '_')}`);
    for (const cut of cuts) {
      writeFileSync(p, full.subarray(0, cut));
      const err = await readAll(p).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `cut at ${cut}`).toBeInstanceOf(PtError);
    }
  });

  it('a legacy file cut inside its storages says truncated', async () => {
    const full = readFileSync(join(FIX, 'torch-pt/torch-2.11/state_dict_f32_legacy.pt'));
    const p = join(dir, 'legacy-cut.pt');
    writeFileSync(p, full.subarray(0, full.length - 5));
    await expect(readPt(p)).rejects.toBeInstanceOf(PtTruncatedError);
  });

  it('closing the file makes later reads fail with a typed error', async () => {
    for (const rel of ['torch-pt/torch-2.11/views.pt', 'torch-pt/torch-2.11/state_dict_f32_legacy.pt']) {
      const pt = await readPt(join(FIX, rel));
      const t = pt.tensors()[0]![1];
      await pt.close();
      await pt.close(); // idempotent
      await expect(t.readBytes()).rejects.toBeInstanceOf(PtError);
    }
  });

  it('opening a file reads only its pickle, not its storages', async () => {
    const path = join(FIX, 'zero/zero2-w3-fp16/checkpoint-5000/global_step5000/mp_rank_00_model_states.pt');
    const fh = await open(path, 'r');
    const size = (await fh.stat()).size;
    await fh.close();
    const pt = await readPt(path);
    try {
      const storageBytes = [...pt.storages.values()].reduce((a, s) => a + s.nbytes, 0);
      expect(storageBytes).toBeGreaterThan(size / 2);
      expect([...pt.storages.values()].every((s) => s.isBound)).toBe(true);
    } finally {
      await pt.close();
    }
  });
});
