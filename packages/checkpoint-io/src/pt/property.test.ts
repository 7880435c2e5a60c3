// Property-based tests (fast-check): random and mutated bytes only ever produce values or typed PtErrors,
// quickly; random writable values survive writePt → readPt.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { PtError } from './errors.js';
import { torchPersistentLoad } from './torch/persistent.js';
import { PtTensorData, ptDict, ptTuple, type PtWritable } from './torch/pickler.js';
import { readPt } from './read.js';
import type { TorchStorage } from './torch/storage.js';
import { torchCall } from './torch/globals.js';
import { unpickle } from './pickle/unpickler.js';
import { PickleDict, PickleTuple, type PickleValue } from './pickle/values.js';
import { writePt } from './write.js';
import { ZipArchive } from './zip/archive.js';

const dir = mkdtempSync(join(tmpdir(), 'pt-prop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FIX = fileURLToPath(new URL('../../../../fixtures/', import.meta.url));

function typedOrValue(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof PtError)) throw err;
  }
}

function torchHooks() {
  const storages = new Map<string, TorchStorage>();
  return {
    persistentLoad: torchPersistentLoad('fuzz', 'zip', storages, (s) =>
      s.bind({ byteLength: 1 << 20, bigEndian: false, read: async () => new Uint8Array(0) }),
    ),
    call: torchCall('fuzz'),
  };
}

async function dataPkl(rel: string): Promise<Uint8Array> {
  const path = join(FIX, rel);
  const h = await open(path, 'r');
  try {
    const a = await ZipArchive.open(path, h, (await h.stat()).size);
    const name = a.order.find((n) => n.endsWith('/data.pkl')) as string;
    const b = await a.readAll(a.entries.get(name)!, 1 << 24);
    a.close();
    return b;
  } finally {
    await h.close();
  }
}

/** Byte-level mutations: flips, overwrites, insertions, deletions, truncation. */
const mutation = (len: number) =>
  fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(len), byte: fc.nat(255) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(len), byte: fc.nat(255) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(len), byte: fc.constant(0) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat(len), byte: fc.constant(0) }),
    ),
    { minLength: 1, maxLength: 6 },
  );

function mutate(
  src: Uint8Array,
  ops: Array<{ kind: 'set' | 'insert' | 'delete' | 'cut'; at: number; byte: number }>,
): Uint8Array {
  let b = Array.from(src);
  for (const op of ops) {
    const at = Math.min(op.at, b.length);
    if (op.kind === 'set' && at < b.length) b[at] = op.byte;
    else if (op.kind === 'insert') b.splice(at, 0, op.byte);
    else if (op.kind === 'delete') b.splice(at, 1);
    else if (op.kind === 'cut') b = b.slice(0, at);
  }
  return Uint8Array.from(b);
}

describe('pickle VM properties', () => {
  it('random bytes → a value or a typed error, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => typedOrValue(() => unpickle(bytes, torchHooks()))),
      { numRuns: 1500 },
    );
  });

  it('random opcode streams (valid opcodes, random arguments) → a value or a typed error', () => {
    const opcodes = [
      0x28, 0x2e, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x4b, 0x4d, 0x4a, 0x8a, 0x47, 0x58, 0x8c, 0x5d, 0x7d, 0x29, 0x8f,
      0x85, 0x86, 0x87, 0x74, 0x6c, 0x64, 0x91, 0x61, 0x65, 0x73, 0x75, 0x90, 0x71, 0x72, 0x94, 0x68, 0x6a, 0x93, 0x52,
      0x81, 0x92, 0x62, 0x51, 0x63,
    ];
    const piece = fc.oneof(
      fc.constantFrom(...opcodes).map((o) => [o]),
      fc
        .constantFrom(
          'ctorch._utils\n_rebuild_tensor_v2\n',
          'ccollections\nOrderedDict\n',
          'ctorch\nSize\n',
          'ctorch\nFloatStorage\n',
          'cos\nsystem\n',
        )
        .map((s) => Array.from(new TextEncoder().encode(s))),
      fc.uint8Array({ maxLength: 4 }).map((b) => Array.from(b)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 80 }), (pieces) =>
        typedOrValue(() => unpickle(Uint8Array.from([0x80, 2, ...pieces.flat()]), torchHooks())),
      ),
      { numRuns: 1500 },
    );
  });

  it('mutated torch data.pkl streams (fixtures and a DeepSpeed shard) → a value or a typed error', async () => {
    const sources = await Promise.all(
      [
        'torch-pt/torch-2.11/trainer_state.pt',
        'torch-pt/torch-1.13/views.pt',
        'zero/zero2-w3-fp16/checkpoint-5000/global_step5000/zero_pp_rank_0_mp_rank_00_optim_states.pt',
      ].map(dataPkl),
    );
    for (const src of sources) {
      fc.assert(
        fc.property(mutation(src.length), (ops) => typedOrValue(() => unpickle(mutate(src, ops), torchHooks()))),
        { numRuns: 500 },
      );
    }
  });
});

describe('whole-file properties', () => {
  it('mutated .pt files (zip and legacy) → readPt and every tensor read give values or typed errors', async () => {
    const files = [
      'torch-pt/torch-2.11/views.pt',
      'torch-pt/torch-1.13/state_dict_f32_legacy.pt',
      'torch-pt/torch-2.11/dtypes.pt',
    ].map((r) => readFileSync(join(FIX, r)));
    const p = join(dir, 'mutated.pt');
    for (const src of files) {
      await fc.assert(
        fc.asyncProperty(mutation(src.length), async (ops) => {
          writeFileSync(p, mutate(src, ops));
          try {
            const pt = await readPt(p);
            try {
              for (const [, t] of pt.tensors()) await t.readBytes();
            } finally {
              await pt.close();
            }
          } catch (err) {
            if (!(err instanceof PtError)) throw err;
          }
        }),
        { numRuns: 60 },
      );
    }
  });

  const key = fc.oneof(fc.string({ maxLength: 6 }), fc.integer({ min: -1000, max: 1000 }));
  const leaf: fc.Arbitrary<PtWritable> = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true }),
    fc.bigInt({ min: -(2n ** 80n), max: 2n ** 80n }),
    fc.string({ maxLength: 8 }),
    fc.uint8Array({ maxLength: 8 }),
    fc
      .tuple(
        fc.constantFrom('float32', 'bfloat16', 'int64', 'bool', 'uint8', 'float16'),
        fc.array(fc.nat(3), { maxLength: 3 }),
      )
      .map(([dtype, shape]) => {
        const n = shape.reduce((a, d) => a * d, 1);
        const size = { float32: 4, bfloat16: 2, int64: 8, bool: 1, uint8: 1, float16: 2 }[dtype];
        const bytes = Uint8Array.from({ length: n * size }, (_, i) => (dtype === 'bool' ? i % 2 : (i * 37) & 0xff));
        return new PtTensorData(dtype, shape, bytes);
      }),
  );
  const tree = fc.letrec<{ node: PtWritable }>((tie) => ({
    node: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('node'), { maxLength: 4 }),
      fc.array(tie('node'), { maxLength: 4 }).map((xs) => ptTuple(...xs)),
      fc
        .tuple(
          fc.uniqueArray(key, { maxLength: 4, selector: (k) => `${typeof k}:${String(k)}` }),
          fc.array(tie('node'), { minLength: 4, maxLength: 4 }),
          fc.boolean(),
        )
        .map(([ks, vs, ordered]) =>
          ptDict(
            ks.map((k, i) => [k, vs[i] as PtWritable]),
            ordered,
          ),
        ),
    ),
  })).node;

  it('random values survive writePt → readPt', async () => {
    const p = join(dir, 'roundtrip.pt');
    await fc.assert(
      fc.asyncProperty(tree, async (value) => {
        await writePt(p, value);
        const pt = await readPt(p);
        try {
          await expectSame(pt.root, value);
        } finally {
          await pt.close();
        }
      }),
      { numRuns: 25 },
    );
  });
});

async function expectSame(actual: PickleValue, expected: PtWritable): Promise<void> {
  if (expected instanceof PtTensorData) {
    const t = actual as unknown as { dtype: string; shape: number[]; readBytes(): Promise<Uint8Array> };
    expect(t.dtype).toBe(expected.dtype);
    expect(t.shape).toEqual(expected.shape);
    expect(Buffer.from(await t.readBytes()).equals(Buffer.from(expected.bytes as Uint8Array))).toBe(true);
  } else if (Array.isArray(expected)) {
    expect(Array.isArray(actual)).toBe(true);
    const a = actual as PickleValue[];
    expect(a.length).toBe(expected.length);
    for (let i = 0; i < expected.length; i++) await expectSame(a[i] as PickleValue, expected[i] as PtWritable);
  } else if (expected instanceof PickleTuple) {
    expect(actual).toBeInstanceOf(PickleTuple);
    const a = actual as PickleTuple;
    expect(a.items.length).toBe(expected.items.length);
    for (let i = 0; i < expected.items.length; i++)
      await expectSame(a.items[i] as PickleValue, expected.items[i] as PtWritable);
  } else if (expected instanceof PickleDict) {
    expect(actual).toBeInstanceOf(PickleDict);
    const a = actual as PickleDict;
    expect(a.ordered).toBe(expected.ordered);
    expect(a.keys()).toEqual(expected.keys());
    for (const [k, v] of expected.entries) await expectSame(a.get(k) as PickleValue, v as PtWritable);
  } else if (typeof expected === 'bigint') {
    // Python ints come back as numbers within ±(2^53 − 1), as bigint beyond.
    const safe = expected >= BigInt(Number.MIN_SAFE_INTEGER) && expected <= BigInt(Number.MAX_SAFE_INTEGER);
    expect(actual).toBe(safe ? Number(expected) : expected);
  } else if (typeof expected === 'number') {
    expect(Object.is(actual, expected) || (Object.is(expected, -0) && Object.is(actual, -0))).toBe(true);
  } else {
    expect(actual).toEqual(expected);
  }
}
