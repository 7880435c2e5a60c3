// Property-based tests: whatever bytes a safetensors parser is fed, it either returns a header whose
// every tensor lies inside the data section, or throws a SafetensorsError — never another error,
// never a hang, never an allocation sized by an unverified claim.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DTYPES, DTYPE_ITEMSIZE, type Dtype } from '../dtype/dtypes.js';
import { SafetensorsError } from './errors.js';
import { parseHeader, parseHeaderLength, safetensorsOrder, serializeHeader, type ParsedHeader } from './header.js';
import { SafetensorsFile } from './reader.js';
import { writeSafetensors } from './writer.js';

/** The reader's validation, on an in-memory buffer. */
function parseBuffer(bytes: Uint8Array): ParsedHeader {
  const n = parseHeaderLength(bytes.subarray(0, 8), bytes.byteLength, 'mem');
  return parseHeader(bytes.subarray(8, 8 + n), bytes.byteLength - 8 - n, 'mem');
}

/** Runs `f`; returns 'ok' or 'typed' for a SafetensorsError; rethrows anything else (a failure). */
function outcome(f: () => unknown): 'ok' | 'typed' {
  try {
    f();
    return 'ok';
  } catch (err) {
    if (err instanceof SafetensorsError) return 'typed';
    throw err;
  }
}

function checkInvariants(h: ParsedHeader, dataLength: number): void {
  let cursor = 0;
  for (const t of h.tensors) {
    expect(t.dataOffsets[0]).toBe(cursor);
    expect(t.dataOffsets[1] - t.dataOffsets[0]).toBe(t.byteLength);
    expect(t.byteLength).toBe(t.shape.reduce((a, d) => a * d, DTYPE_ITEMSIZE[t.dtype]));
    cursor = t.dataOffsets[1];
  }
  expect(cursor).toBe(dataLength);
}

const entryArb = fc.record({
  name: fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '__metadata__'),
  dtype: fc.constantFrom(...DTYPES) as fc.Arbitrary<Dtype>,
  shape: fc.array(fc.integer({ min: 0, max: 5 }), { maxLength: 3 }),
});
const entriesArb = fc.uniqueArray(entryArb, { selector: (e) => e.name, maxLength: 6 });
const metaArb = fc.option(fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }), {
  nil: null,
});

function buildFile(
  entries: Array<{ name: string; dtype: Dtype; shape: number[] }>,
  metadata: Record<string, string> | null,
): Uint8Array {
  const ordered = safetensorsOrder(entries);
  const { prefixAndHeader, dataLength } = serializeHeader(ordered, metadata, 'mem');
  const out = new Uint8Array(prefixAndHeader.byteLength + dataLength);
  out.set(prefixAndHeader);
  for (let i = prefixAndHeader.byteLength; i < out.length; i++) out[i] = i & 0xff;
  return out;
}

describe('safetensors parser properties', () => {
  it('random bytes: a typed error or a consistent header, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        outcome(() => parseBuffer(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('random bytes after a plausible length prefix', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (body, len) => {
        const bytes = new Uint8Array(8 + body.length);
        new DataView(bytes.buffer).setBigUint64(0, len % 1000n === 0n ? len : len % BigInt(body.length + 9), true);
        bytes.set(body, 8);
        outcome(() => parseBuffer(bytes));
      }),
      { numRuns: 1000 },
    );
  });

  it('valid files parse back exactly; single-byte mutations and truncations give typed errors or consistent headers', () => {
    fc.assert(
      fc.property(
        entriesArb,
        metaArb,
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        fc.nat(),
        (entries, meta, pos, byte, cut) => {
          const file = buildFile(entries, meta);
          const parsed = parseBuffer(file);
          expect(parsed.tensors.map((t) => t.name).sort()).toEqual(entries.map((e) => e.name).sort());
          expect(parsed.metadata).toEqual(meta);
          const n = Number(new DataView(file.buffer).getBigUint64(0, true));
          checkInvariants(parsed, file.byteLength - 8 - n);

          const mutated = file.slice();
          mutated[pos % mutated.length] = byte;
          if (outcome(() => parseBuffer(mutated)) === 'ok') {
            const m = Number(new DataView(mutated.buffer).getBigUint64(0, true));
            checkInvariants(parseBuffer(mutated), mutated.byteLength - 8 - m);
          }
          const truncated = file.subarray(0, cut % file.length);
          if (outcome(() => parseBuffer(truncated)) === 'ok') {
            const m = Number(new DataView(truncated.buffer, truncated.byteOffset).getBigUint64(0, true));
            checkInvariants(parseBuffer(truncated), truncated.byteLength - 8 - m);
          }
        },
      ),
      { numRuns: 600 },
    );
  });

  it('headers with random (lying) offsets, shapes and dtypes give typed errors or consistent headers', () => {
    const lyingEntry = fc.record({
      dtype: fc.oneof(fc.constantFrom(...DTYPES), fc.string({ maxLength: 5 })),
      shape: fc.oneof(
        fc.array(fc.oneof(fc.integer({ min: -2, max: 6 }), fc.constant(2 ** 53), fc.double()), { maxLength: 3 }),
        fc.constant('x'),
      ),
      data_offsets: fc.oneof(
        fc.tuple(fc.integer({ min: -4, max: 64 }), fc.integer({ min: -4, max: 64 })),
        fc.array(fc.nat(80), { maxLength: 3 }),
        fc.constant(null),
      ),
    });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 4 }), lyingEntry, { maxKeys: 4 }),
        fc.nat(64),
        (header, dataLen) => {
          const text = new TextEncoder().encode(JSON.stringify(header));
          const r = outcome(() => parseHeader(text, dataLen, 'mem'));
          if (r === 'ok') checkInvariants(parseHeader(text, dataLen, 'mem'), dataLen);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the file reader agrees: random files either open with every tensor readable or throw typed errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-prop-'));
    let i = 0;
    await fc.assert(
      fc.asyncProperty(entriesArb, fc.nat(), fc.integer({ min: 0, max: 255 }), async (entries, pos, byte) => {
        const file = buildFile(entries, null);
        file[pos % file.length] = byte;
        const p = join(dir, `f${i++}.safetensors`);
        await writeFile(p, file);
        let f: SafetensorsFile | undefined;
        try {
          f = await SafetensorsFile.open(p);
        } catch (err) {
          if (!(err instanceof SafetensorsError)) throw err;
          return;
        }
        for await (const [name, t] of f.tensors()) expect(t.bytes.byteLength).toBe(f.info(name).byteLength);
        await f.close();
      }),
      { numRuns: 60 },
    );
  });

  it('write → read round-trips random tensors of every dtype', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-prop-'));
    let i = 0;
    await fc.assert(
      fc.asyncProperty(entriesArb, metaArb, async (entries, meta) => {
        const withData = entries.map((e) => {
          const len = e.shape.reduce((a, d) => a * d, DTYPE_ITEMSIZE[e.dtype]);
          return { ...e, data: new Uint8Array(len).map((_, j) => (j * 13 + e.name.length) & 0xff) };
        });
        const p = join(dir, `rt${i++}.safetensors`);
        await writeSafetensors(p, withData, { metadata: meta });
        const f = await SafetensorsFile.open(p);
        expect(f.metadata).toEqual(meta);
        for (const e of withData) {
          const t = await f.read(e.name);
          expect(t.dtype).toBe(e.dtype);
          expect(t.shape).toEqual(e.shape);
          expect(Buffer.compare(Buffer.from(t.bytes), Buffer.from(e.data))).toBe(0);
        }
        await f.close();
      }),
      { numRuns: 50 },
    );
  });
});
