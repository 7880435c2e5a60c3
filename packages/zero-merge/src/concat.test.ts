import { describe, expect, it } from 'vitest';
import { ConcatView, type TensorLike } from './concat.js';
import { CorruptCheckpointError } from './errors.js';

/** An in-memory float32 1-D tensor that counts its reads; like the .pt reader, fills `into` when given. */
function fake(values: number[]): TensorLike & { reads: Array<[number, number]> } {
  const data = new Uint8Array(new Float32Array(values).buffer);
  const reads: Array<[number, number]> = [];
  return {
    dtype: 'float32',
    shape: [values.length],
    numel: values.length,
    reads,
    async readElements(start: number, count: number, into?: Uint8Array) {
      reads.push([start, count]);
      const bytes = data.subarray(start * 4, (start + count) * 4);
      const out = into ?? new Uint8Array(bytes.byteLength);
      out.set(bytes); // the data lands (as a thread-pool read fills the buffer) ...
      await new Promise((r) => setTimeout(r, start % 3)); // ... and the caller hears of it later, out of order
      return out;
    },
  } as TensorLike & { reads: Array<[number, number]> };
}

async function read(view: ConcatView, start: number, count: number): Promise<number[]> {
  const buf = new Uint8Array(count * 4);
  await view.copyTo(buf, 0, start, count);
  return [...new Float32Array(buf.buffer)];
}

describe('ConcatView', () => {
  it('reads ranges that straddle segments', async () => {
    const a = fake([0, 1, 2]);
    const b = fake([3, 4]);
    const c = fake([5, 6, 7, 8]);
    const v = new ConcatView(
      [a, b, c].map((t, i) => ({ tensor: t, file: `f${i}`, what: `g${i}` })),
      4,
    );
    expect(v.numel).toBe(9);
    expect(await read(v, 0, 9)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await read(v, 2, 4)).toEqual([2, 3, 4, 5]);
    expect(await read(v, 8, 1)).toEqual([8]);
    expect(await read(v, 4, 0)).toEqual([]);
  });

  it('serves small sequential reads from one read-ahead window per view', async () => {
    const a = fake(Array.from({ length: 1000 }, (_, i) => i));
    const v = new ConcatView([{ tensor: a, file: 'f', what: 'g' }], 4, 1024);
    for (let i = 0; i < 1000; i += 10)
      expect(await read(v, i, 10)).toEqual(Array.from({ length: 10 }, (_, k) => i + k));
    // 1024-byte window = 256 elements: 1000 elements need 4 reads, not 100
    expect(a.reads.length).toBe(4);
  });

  it('reads large ranges straight into the destination, one read per segment', async () => {
    const a = fake(Array.from({ length: 1000 }, (_, i) => i));
    const b = fake(Array.from({ length: 100 }, (_, i) => 1000 + i));
    const v = new ConcatView(
      [
        { tensor: a, file: 'f', what: 'a' },
        { tensor: b, file: 'f', what: 'b' },
      ],
      4,
      800,
    );
    const got = await read(v, 100, 950);
    expect(got).toEqual(Array.from({ length: 950 }, (_, i) => 100 + i));
    // 900 elements of a in one read; the 50 of b (200 bytes < the 800-byte window) through the window
    expect(a.reads).toEqual([[100, 900]]);
    expect(b.reads).toEqual([[0, 100]]);
  });

  it('keeps concurrent reads of one view apart (they share the window buffer)', async () => {
    const values = Array.from({ length: 4000 }, (_, i) => i);
    const a = fake(values);
    const v = new ConcatView([{ tensor: a, file: 'f', what: 'g' }], 4, 64);
    const starts = Array.from({ length: 200 }, (_, i) => (i * 397) % 3990);
    const got = await Promise.all(starts.map((s) => read(v, s, 10)));
    got.forEach((g, i) => expect(g).toEqual(values.slice(starts[i]!, starts[i]! + 10)));
  });

  it('release() frees the window after the reads already queued; the view still reads afterwards', async () => {
    const a = fake(Array.from({ length: 100 }, (_, i) => i));
    const v = new ConcatView([{ tensor: a, file: 'f', what: 'g' }], 4, 64);
    const pending = read(v, 0, 10);
    v.release();
    expect(await pending).toEqual(Array.from({ length: 10 }, (_, i) => i));
    await read(v, 0, 0); // queued behind the release
    const held = v as unknown as { window: unknown; windowBuffer: unknown };
    expect([held.window, held.windowBuffer]).toEqual([null, null]);
    expect(await read(v, 10, 5)).toEqual([10, 11, 12, 13, 14]);
    expect(held.windowBuffer).not.toBeNull();
  });

  it('refuses ranges past the end with a typed error', async () => {
    const v = new ConcatView([{ tensor: fake([1, 2]), file: 'rank0.pt', what: 'g' }], 4);
    await expect(read(v, 1, 2)).rejects.toBeInstanceOf(CorruptCheckpointError);
  });
});
